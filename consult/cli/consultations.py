"""The top-level commands on a consultation: start, status, list, extend, withdraw, dossier; and calendar-url.

What a command needs beyond reading its options (the operations, the schemas, the views) is imported in
its body: `consult --help` imports none of it, `consult status` only what a status needs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from consult.cli import reads
from consult.cli.options import AsJson, ConsultationId, Operator, StageChoice, parse_date
from consult.cli.session import BAD_INPUT, Failure, Session, out

PANEL = "Consultations"

# Merged into the root app: these are `consult start`, `consult status`, ...
app = typer.Typer()


@app.command(rich_help_panel=PANEL, epilog="Example: consult start examples/chile-us-2026.yaml")
def start(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The declaration (YAML or JSON).")],
) -> None:
    """Start a consultation from a declaration file.

    Every counterpart and operator is emailed that it is open, with the
    first-round deadline. A declaration starts one consultation, ever:
    starting it again is refused.
    """
    from consult.files import check_signed_in_the_past, load_declaration
    from infra.formatting import display_tz, fmt_counted
    from operations import consultations as operations
    from operations.calendars import UnknownCalendar, today_in, working_calendar
    from schemas.consultation import ConsultationInput

    declaration = load_declaration(file)
    now = datetime.now(UTC)
    check_signed_in_the_past(declaration, now)
    try:
        calendar = working_calendar(declaration, today_in(declaration, now))
    except UnknownCalendar as error:
        raise Failure(f"{file}: {error}", BAD_INPUT) from None
    session = Session.of(ctx)
    session.run(operations.start, declaration, session.settings.task_queue, calendar)
    input = ConsultationInput(declaration=declaration, calendar=calendar)
    out.print(f"Started {declaration.workflow_id}: {declaration.title}")
    due = fmt_counted(input.first_round_deadline, input.first_round_counting, display_tz(declaration.signed_at))
    out.print(f"First technical round due by {due}.")


@app.command(rich_help_panel=PANEL)
def status(ctx: typer.Context, consultation: ConsultationId, as_json: AsJson = False) -> None:
    """Show a consultation: stage, deadlines, rounds, extensions, notices sent."""
    reads.status(Session.of(ctx), consultation, as_json)


@app.command("list", rich_help_panel=PANEL)
def list_(
    ctx: typer.Context,
    stage: Annotated[StageChoice | None, typer.Option(help="Only consultations in this stage.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue consultations.")] = False,
    as_json: AsJson = False,
) -> None:
    """List consultations, and the review schedules of concluded agreements.

    Review schedules are listed when no filter is given (with --json, as rows
    of kind review_schedule).
    """
    reads.listing(Session.of(ctx), stage.value if stage else None, overdue, as_json)


@app.command(
    rich_help_panel=PANEL,
    epilog='Example: consult extend ID --until 2026-12-20 --reason "Ministers\' agendas"',
)
def extend(
    ctx: typer.Context,
    consultation: ConsultationId,
    until: Annotated[
        str,
        typer.Option(metavar="DATE", help="The new first-round deadline (a bare date is the end of that day, 23:59)."),
    ],
    reason: Annotated[str, typer.Option(help="Why the deadline moves; recorded and sent to everyone.")],
    by: Operator = "",
) -> None:
    """Extend the first-round deadline, with a reason.

    Everyone is told; the overdue flag clears and reminders are planned again
    from the new date. A date without an offset is read in the declaration's
    time zone.
    """
    from infra.formatting import display_tz, fmt
    from operations import consultations as operations
    from schemas.consultation import ExtendDeadlineRequest

    session = Session.of(ctx)
    tz = display_tz(session.run(operations.declaration, consultation).signed_at)
    request = ExtendDeadlineRequest(
        until=parse_date(until, "--until", tz, end_of_day=True), reason=reason, requested_by=by
    )
    record = session.run(operations.extend, consultation, request)
    out.print(f"First-round deadline extended to {fmt(record.new_deadline, tz)}.")


@app.command(rich_help_panel=PANEL)
def withdraw(
    ctx: typer.Context,
    consultation: ConsultationId,
    reason: Annotated[str, typer.Option(help="Why the consultation is withdrawn; sent to everyone.")],
    by: Operator = "",
) -> None:
    """Withdraw a consultation: everyone is notified, and it cannot be undone.

    Any open round ends with it.
    """
    if not reason.strip():
        raise Failure("--reason: a withdrawal needs a reason", BAD_INPUT)
    from operations import consultations as operations
    from schemas.consultation import WithdrawRequest

    Session.of(ctx).run(operations.withdraw, consultation, WithdrawRequest(reason=reason, requested_by=by))
    out.print(f"Consultation {consultation} withdrawn.")


@app.command(rich_help_panel=PANEL)
def dossier(
    ctx: typer.Context,
    consultation: ConsultationId,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="The HTML file to write (the JSON goes beside it). Default: dossier-<id>.html",
        ),
    ] = None,
    with_files: Annotated[
        Path | None,
        typer.Option(
            "--with-files",
            metavar="DIR",
            help="Write the record and every attached file into DIR, with SHA256SUMS (check: "
            "cd DIR && sha256sum -c SHA256SUMS).",
        ),
    ] = None,
) -> None:
    """Write the record of a consultation: HTML and JSON, with a SHA-256 over the record.

    It lists every attached file with its SHA-256; --with-files DIR exports the
    files too. Works on a running or a finished consultation.
    """
    from operations import dossier as records  # here, for start-up speed (Jinja, Markdown)

    if out_file is not None and with_files is not None:
        raise Failure("give --out FILE or --with-files DIR, not both", BAD_INPUT)
    session = Session.of(ctx)
    record = session.run(records.build, consultation)
    if with_files is not None:
        written = session.run(records.export, record, with_files)
        count = len({f["sha256"] for f in record["files"]})
        out.print(
            f"Wrote the record and {count} attached file(s) into {with_files}, with {records.SUMS} over all "
            f"{len(written) - 1} (record SHA-256 {record['sha256']}).\n"
            f"Check: cd {with_files} && sha256sum -c {records.SUMS}",
            markup=False,
            highlight=False,
        )
        return
    html_path = out_file or Path(records.file_names(record)[0])
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(records.render_html(record), encoding="utf-8")
    json_path = html_path.with_suffix(".json")
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    out.print(f"Wrote {html_path} and {json_path} (record SHA-256 {record['sha256']}).")


@app.command("calendar-url", rich_help_panel=PANEL)
def calendar_url(ctx: typer.Context, by: Operator = "") -> None:
    """Print your calendar feed's URL: every upcoming meeting and deadline of the consultations you run.

    Subscribe to it in any calendar app (https, http or webcal). The URL is the
    credential: it works for a year, and each new one is numbered after the last
    revoked one (CONSULT_CALENDAR_REVOKED=EMAIL:N on the gateway refuses URLs 1 to N).
    Signed with CONSULT_LINK_KEYS (or `consult dev`'s key in the data directory).
    """
    from schemas.links import FEED_LIFETIME

    settings = Session.of(ctx).settings
    operator = by.strip().lower()
    if "@" not in operator:
        raise Failure(f"--by: {by!r} is not an email address", BAD_INPUT)
    try:
        number = settings.revoked_feeds().get(operator, 0) + 1
        signer = settings.dev_link_signer(settings.data_dir, create=False)
    except ValueError as error:
        raise Failure(str(error), BAD_INPUT) from None
    now = datetime.now(UTC)
    token = signer.sign_feed(operator, number, now)
    url = f"{settings.gateway_url.rstrip('/')}/calendar/{token}.ics"
    webcal = "webcal://" + url.partition("://")[2]
    out.print(f"Calendar feed of {operator} (URL number {number}, valid until {(now + FEED_LIFETIME):%Y-%m-%d}):")
    out.print(url, markup=False, highlight=False)
    out.print(
        f"Subscribe to it in a calendar app (or open {webcal}). Anyone holding it sees the feed: to revoke it, "
        f"set CONSULT_CALENDAR_REVOKED={operator}:{number} where the gateway runs.",
        markup=False,
        highlight=False,
    )

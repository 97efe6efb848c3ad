"""`consult round ...`: technical rounds — open one, follow it, close it early, decide on and re-issue its minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.cli.options import (
    Annexes,
    Approver,
    AsJson,
    ConsultationId,
    EnglishText,
    MinutesDecision,
    Operator,
    SpanishText,
    attach_files,
    describe_files,
    listed_annexes,
    parse_date,
    parse_pillars,
    read_documents,
    store_files,
)
from consult.cli.session import Session, out, print_json

app = typer.Typer(
    no_args_is_help=True,
    help="Technical rounds: open and close them, follow their inputs, decide on their minutes.",
)

RoundNumber = Annotated[int | None, typer.Option("--number", metavar="N", help="Which round (default: the latest).")]


@app.command(
    "open",
    epilog="Example:\n"
    "consult round open ID --meeting 2026-12-10 --inputs-due 2026-12-08 --pillars supply_chain,financing",
)
def open_(
    ctx: typer.Context,
    consultation: ConsultationId,
    meeting: Annotated[
        str,
        typer.Option(metavar="DATE", help="The meeting's date or date-time (a bare date is the start of that day)."),
    ],
    inputs_due: Annotated[
        str, typer.Option(metavar="DATE", help="When inputs are due (a bare date is the end of that day, 23:59).")
    ],
    pillars: Annotated[
        str | None,
        typer.Option(
            metavar="P1,P2", help="The pillars on the agenda, comma-separated. Default: all the declaration's."
        ),
    ] = None,
    by: Operator = "",
) -> None:
    """Open the next technical round; every technical lead is asked for their inputs.

    Dates are YYYY-MM-DD or YYYY-MM-DDTHH:MM[±HH:MM]; without an offset,
    they are read in the declaration's time zone.
    Round 1's meeting must fall within the first-round deadline (extend it first
    otherwise); a later round opens once the previous one is closed.
    """
    from infra.formatting import display_tz, fmt
    from operations import consultations as operations
    from schemas.consultation import OpenRoundRequest

    agenda = parse_pillars(pillars)
    session = Session.of(ctx)
    tz = display_tz(session.run(operations.declaration, consultation).signed_at)
    request = OpenRoundRequest(
        meeting_at=parse_date(meeting, "--meeting", tz, end_of_day=False),
        inputs_due=parse_date(inputs_due, "--inputs-due", tz, end_of_day=True),
        pillars=agenda,
        requested_by=by,
    )
    record = session.run(operations.open_round, consultation, request)
    out.print(
        f"Round {record.number} opened: meeting {fmt(record.meeting_at, tz)}, inputs due {fmt(record.inputs_due, tz)}"
    )


@app.command("status")
def status(
    ctx: typer.Context, consultation: ConsultationId, number: RoundNumber = None, as_json: AsJson = False
) -> None:
    """Show a round: its party × pillar grid of inputs, minutes, approvals and decisions."""
    from operations import consultations as operations

    result = Session.of(ctx).run(operations.round_status, consultation, number)
    if as_json:
        print_json(result.model_dump_json(indent=2))
    else:
        from consult.views import show_round

        show_round(out, result)


@app.command("close")
def close(
    ctx: typer.Context,
    consultation: ConsultationId,
    reason: Annotated[str, typer.Option(help="Why inputs close before their due date; recorded.")],
    by: Operator = "",
) -> None:
    """Close the open round for inputs now, before their due date.

    The minutes are written from what has arrived (the missing inputs are
    named) and sent for approval.
    """
    from operations import consultations as operations
    from schemas.rounds import CloseRoundRequest

    Session.of(ctx).run(operations.close_round, consultation, CloseRoundRequest(reason=reason, requested_by=by))
    out.print("Inputs closed; the minutes are being written and sent for approval.")


@app.command(
    "reschedule",
    epilog='Example:\nconsult round reschedule ID --meeting 2026-12-11T15:00 --reason "Ministers\' agendas"',
)
def reschedule(
    ctx: typer.Context,
    consultation: ConsultationId,
    meeting: Annotated[
        str,
        typer.Option(metavar="DATE", help="The new date or date-time (a bare date is the start of that day)."),
    ],
    reason: Annotated[str, typer.Option(help="Why the meeting moves; recorded and sent to everyone.")],
    inputs_due: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="A new due date for inputs, while they are collected (end of day if bare)."),
    ] = None,
    by: Operator = "",
) -> None:
    """Move the open round's meeting (and its inputs' due date).

    Everyone receives the calendar invitation updated: the same event moves in
    their calendar. Dates are read like `round open`.
    """
    from infra.formatting import display_tz, fmt
    from operations import consultations as operations
    from schemas.rounds import RescheduleMeetingRequest

    session = Session.of(ctx)
    tz = display_tz(session.run(operations.declaration, consultation).signed_at)
    request = RescheduleMeetingRequest(
        meeting_at=parse_date(meeting, "--meeting", tz, end_of_day=False),
        inputs_due=parse_date(inputs_due, "--inputs-due", tz, end_of_day=True) if inputs_due else None,
        reason=reason,
        requested_by=by,
    )
    move = session.run(operations.reschedule_meeting, consultation, request)
    out.print(
        f"Meeting moved to {fmt(move.meeting_at, tz)} (inputs due {fmt(move.inputs_due, tz)}); "
        f"everyone gets the updated invitation (update {move.sequence})."
    )


@app.command("export")
def export(
    ctx: typer.Context,
    consultation: ConsultationId,
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="The folder to write the minutes into.")] = Path(
        "."
    ),
    number: RoundNumber = None,
) -> None:
    """Write the current minutes, one Markdown file per language, to edit and re-issue them."""
    from operations import consultations as operations

    round_number, minutes = Session.of(ctx).run(operations.current_minutes, consultation, number)
    out_dir.mkdir(parents=True, exist_ok=True)
    for locale, text in minutes.documents.items():
        path = out_dir / f"round-{round_number}-minutes-v{minutes.version}.{locale.value}.md"
        path.write_text(text, encoding="utf-8")
        out.print(f"Wrote {path}")
    if minutes.annexes:
        out.print(
            f"Version {minutes.version}'s annexes (give them again with --annex when re-issuing):"
            + describe_files(minutes.annexes),
            markup=False,
            highlight=False,
        )


@app.command(
    "minutes",
    epilog="Example: write the current minutes, edit them, re-issue them:\n"
    "consult round export ID --out minutes/\n"
    "consult round minutes ID --en minutes/round-1-minutes-v1.en.md --es minutes/round-1-minutes-v1.es.md",
)
def minutes(
    ctx: typer.Context,
    consultation: ConsultationId,
    en: EnglishText = None,
    es: SpanishText = None,
    annex: Annexes = None,
    by: Operator = "",
) -> None:
    """Re-issue the minutes after changes were requested, with their annexes.

    Approval starts again on the new version; its SHA-256 covers the text and
    the annexes. Give both languages; with one, every reader receives that text.
    """
    from operations import consultations as operations
    from schemas.rounds import ReissueMinutesRequest

    documents = read_documents(en, es, "(`consult round export` writes the current minutes)")
    attached = attach_files(annex, "--annex")
    session = Session.of(ctx)
    request = ReissueMinutesRequest(documents=documents, requested_by=by, annexes=store_files(session, attached, by))
    version = session.run(operations.reissue_minutes, consultation, request)
    out.print(
        f"Minutes version {version.version} issued (SHA-256 {version.sha256}); sent for approval."
        + listed_annexes(version.annexes),
        markup=False,
        highlight=False,
    )
    if len(documents) == 1:
        only = next(iter(documents)).value
        out.print(f"Note: only the '{only}' text was given; every reader receives it.")


@app.command("decide")
def decide(
    ctx: typer.Context,
    consultation: ConsultationId,
    approver: Approver,
    decision: Annotated[MinutesDecision, typer.Option(help="approve or request_changes.")],
    comment: Annotated[str, typer.Option(help="Required when requesting changes.")] = "",
    by: Operator = "",
) -> None:
    """Record an approver's decision on the current minutes, on their behalf.

    For a decision taken in a meeting, say. It is recorded against the SHA-256
    of the version current now.
    """
    from operations import consultations as operations
    from schemas.approvals import Decision

    on_behalf = operations.DecisionOnBehalf(approver, Decision(decision.value), recorded_by=by, comment=comment)
    record = Session.of(ctx).run(operations.decide_current_minutes, consultation, on_behalf)
    out.print(f"Recorded: {record.approver_name} ({record.party}) {record.decision.value} v{record.version}.")

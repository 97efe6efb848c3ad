"""`consult`: the operators' command line.

Exit codes: 0 done; 1 refused or failed (the consultation said no, or Temporal
is unreachable); 2 bad input (a file, an option, a date).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from temporalio.client import Client

from consult.files import (
    InputFileError,
    check_signed_in_the_past,
    describe_errors,
    load_declaration,
    load_pillar_input,
    read_document,
)
from consult.timeparse import parse_when
from consult.views import listing_rows, show_listing, show_round, show_schedules, show_status
from infra import logs
from infra.formatting import display_tz, fmt
from infra.settings import Settings
from infra.temporal import connect, connect_options, data_converter
from operations import consultations as operations
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import (
    ExtendDeadlineRequest,
    OpenRoundRequest,
    Stage,
    StartDraftingRequest,
    SubmitDraftRequest,
    WithdrawRequest,
)
from schemas.declaration import Locale, Pillar
from schemas.rounds import CloseRoundRequest, ReissueMinutesRequest, SubmitInputRequest

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Run intergovernmental consultations: from a signed declaration to a definitive agreement.",
)
round_app = typer.Typer(no_args_is_help=True, help="Technical rounds: open, follow, close, minutes.")
input_app = typer.Typer(no_args_is_help=True, help="Pillar inputs to the open round.")
agreement_app = typer.Typer(no_args_is_help=True, help="The definitive agreement.")
draft_app = typer.Typer(no_args_is_help=True, help="Agreement drafts: submit versions, record decisions.")
app.add_typer(round_app, name="round")
app.add_typer(input_app, name="input")
app.add_typer(agreement_app, name="agreement")
app.add_typer(draft_app, name="draft")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _consultation_id(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("give the consultation's id (the declaration's `id`)")
    return value.strip()


ConsultationId = Annotated[
    str, typer.Argument(help="The declaration id (or the full workflow id).", callback=_consultation_id)
]
By = Annotated[
    str | None,
    typer.Option("--by", help="The operator acting (an email listed in the declaration). Default: $CONSULT_OPERATOR."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


class MinutesDecision(StrEnum):
    """What can be decided on minutes (declining belongs to the agreement)."""

    APPROVE = Decision.APPROVE.value
    REQUEST_CHANGES = Decision.REQUEST_CHANGES.value


class Failure(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int) -> NoReturn:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        _fail("invalid CONSULT_* setting:\n" + "\n".join(f"  - {e}" for e in describe_errors(error)), 2)


async def _client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except Exception as error:
        options = connect_options(settings)
        raise Failure(
            f"cannot reach Temporal at {options['target_host']} (namespace {options['namespace']}): "
            f"{error}\nIs `consult dev` running? Elsewhere, set CONSULT_TEMPORAL_ADDRESS.",
            1,
        ) from None


def _run(work: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Runs one command; every foreseeable failure becomes a message and an exit code, never a traceback."""
    settings = _settings()
    logs.configure(settings.log_format, "WARNING")
    try:
        return asyncio.run(work(settings))
    except Failure as failure:
        _fail(str(failure), failure.code)
    except InputFileError as error:
        _fail(str(error), 2)
    except operations.OperationError as error:
        _fail(str(error), 1)
    except ValidationError as error:
        _fail("\n".join(describe_errors(error)), 2)


def _operator(by: str | None, settings: Settings) -> str:
    who = by or settings.operator
    if not who:
        raise Failure("who is acting? Pass --by EMAIL or set CONSULT_OPERATOR (an operator of the declaration).", 2)
    return who


@app.command()
def start(file: Annotated[Path, typer.Argument(help="The declaration file (YAML or JSON).")]) -> None:
    """Start a consultation from a declaration file."""

    async def work(settings: Settings) -> None:
        declaration = load_declaration(file)
        check_signed_in_the_past(declaration, datetime.now(UTC))
        client = await _client(settings)
        await operations.start(client, declaration, settings.task_queue)
        tz = display_tz(declaration.signed_at)
        out.print(f"Started {declaration.workflow_id}: {declaration.title}")
        out.print(f"First technical round due by {fmt(declaration.first_round_deadline, tz)}.")

    _run(work)


@app.command()
def status(consultation: ConsultationId, as_json: AsJson = False) -> None:
    """Show a consultation: stage, deadlines, rounds, extensions, notices sent."""

    async def work(settings: Settings) -> None:
        result = await operations.status(await _client(settings), consultation)
        if as_json:
            out.print_json(result.model_dump_json())
        else:
            show_status(out, result)

    _run(work)


@app.command("list")
def list_(
    stage: Annotated[Stage | None, typer.Option(help="Only consultations in this stage.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue consultations.")] = False,
    as_json: AsJson = False,
) -> None:
    """List consultations, optionally by stage or overdue."""

    async def work(settings: Settings) -> None:
        client = await _client(settings)
        rows = listing_rows(await operations.list_consultations(client, stage=stage, overdue=overdue))
        schedules = [] if stage or overdue else await operations.list_review_schedules(client)
        if as_json:
            out.print_json(json.dumps(rows + schedules))
        else:
            show_listing(out, rows)
            show_schedules(out, schedules)

    _run(work)


@round_app.command("open")
def round_open(
    consultation: ConsultationId,
    meeting: Annotated[str, typer.Option(help="Meeting date or date-time (a bare date is the start of that day).")],
    inputs_due: Annotated[str, typer.Option(help="Inputs due date or date-time (a bare date is the end of that day).")],
    pillars: Annotated[
        str | None, typer.Option(help="Comma-separated pillars on the agenda. Default: all the declaration's.")
    ] = None,
    by: By = None,
) -> None:
    """Open the next technical round. Dates without an offset are in the declaration's time zone."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        agenda = _pillars(pillars)
        client = await _client(settings)
        current = await operations.status(client, consultation)
        tz = display_tz(current.signed_at)
        request = OpenRoundRequest(
            meeting_at=parse_or_fail(meeting, "--meeting", tz, end_of_day=False),
            inputs_due=parse_or_fail(inputs_due, "--inputs-due", tz, end_of_day=True),
            pillars=agenda,
            requested_by=who,
        )
        record = await operations.open_round(client, consultation, request)
        out.print(
            f"Round {record.number} opened: meeting {fmt(record.meeting_at, tz)}, "
            f"inputs due {fmt(record.inputs_due, tz)}"
        )

    _run(work)


@round_app.command("status")
def round_status(
    consultation: ConsultationId,
    number: Annotated[int | None, typer.Option(help="Which round (default: the latest).")] = None,
    as_json: AsJson = False,
) -> None:
    """A round's party × pillar grid, its inputs, minutes and approvals."""

    async def work(settings: Settings) -> None:
        result = await operations.round_status(await _client(settings), consultation, number)
        if as_json:
            out.print_json(result.model_dump_json())
        else:
            show_round(out, result)

    _run(work)


@round_app.command("close")
def round_close(
    consultation: ConsultationId,
    reason: Annotated[str, typer.Option(help="Why inputs close before their due date; recorded.")],
    by: By = None,
) -> None:
    """Close the open round for inputs now; its minutes are written from what has arrived."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        client = await _client(settings)
        await operations.close_round(client, consultation, CloseRoundRequest(reason=reason, requested_by=who))
        out.print("Inputs closed; the minutes are being written and sent for approval.")

    _run(work)


@round_app.command("minutes")
def round_minutes(
    consultation: ConsultationId,
    en: Annotated[Path | None, typer.Option("--en", help="The edited minutes in English (Markdown, UTF-8).")] = None,
    es: Annotated[Path | None, typer.Option("--es", help="The edited minutes in Spanish (Markdown, UTF-8).")] = None,
    by: By = None,
) -> None:
    """Re-issue the minutes after changes were requested; approval starts again on the new version.

    Give both languages; with one, every reader receives that text.
    """

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        documents = _documents(en, es, "(`consult round export` writes the current minutes)")
        client = await _client(settings)
        version = await operations.reissue_minutes(
            client, consultation, ReissueMinutesRequest(documents=documents, requested_by=who)
        )
        out.print(f"Minutes version {version.version} issued (SHA-256 {version.sha256}); sent for approval.")
        if len(documents) == 1:
            only = next(iter(documents)).value
            out.print(f"Note: only the '{only}' text was given; every reader receives it.")

    _run(work)


@round_app.command("export")
def round_export(
    consultation: ConsultationId,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the minutes into.")] = Path("."),
    number: Annotated[int | None, typer.Option(help="Which round (default: the latest).")] = None,
) -> None:
    """Write the current minutes (one Markdown file per language) to edit and re-issue them."""

    async def work(settings: Settings) -> None:
        current = await operations.round_status(await _client(settings), consultation, number)
        if not current.minutes:
            raise Failure(f"round {current.number} has no minutes yet", 1)
        minutes = current.minutes[-1]
        out_dir.mkdir(parents=True, exist_ok=True)
        for locale, text in minutes.documents.items():
            path = out_dir / f"round-{current.number}-minutes-v{minutes.version}.{locale.value}.md"
            path.write_text(text, encoding="utf-8")
            out.print(f"Wrote {path}")

    _run(work)


@round_app.command("decide")
def round_decide(
    consultation: ConsultationId,
    approver: Annotated[str, typer.Option(help="The approver whose decision this is.")],
    decision: Annotated[MinutesDecision, typer.Option(help="approve or request_changes.")],
    comment: Annotated[str, typer.Option(help="Required when requesting changes.")] = "",
    by: By = None,
) -> None:
    """Record an approver's decision on the current minutes, on their behalf (e.g. taken in a meeting)."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        client = await _client(settings)
        current = await operations.round_status(client, consultation)
        if not current.minutes:
            raise Failure(f"round {current.number} has no minutes yet", 1)
        sha = current.minutes[-1].sha256
        record = await operations.decide_minutes(
            client,
            consultation,
            DecisionRequest(
                approver=approver, decision=Decision(decision.value), sha256=sha, comment=comment, recorded_by=who
            ),
        )
        out.print(f"Recorded: {record.approver_name} ({record.party}) {record.decision.value} v{record.version}.")

    _run(work)


@input_app.command("submit")
def input_submit(
    consultation: ConsultationId,
    file: Annotated[Path, typer.Argument(help="The input: summary, items (and author), in YAML or JSON.")],
    party: Annotated[str, typer.Option(help="The party the input is from, e.g. CL.")],
    pillar: Annotated[Pillar, typer.Option(help="The pillar it answers.")],
    author: Annotated[
        str | None, typer.Option(help="The technical lead who wrote it (default: the file's `author`).")
    ] = None,
    by: By = None,
) -> None:
    """Submit a party's input on one pillar to the open round, on its behalf. A later one replaces it."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        item = load_pillar_input(file, party=party.strip().upper(), pillar=pillar, author=author)
        client = await _client(settings)
        record = await operations.submit_input(client, consultation, SubmitInputRequest(input=item, submitted_by=who))
        out.print(f"Recorded {record.input.party}/{record.input.pillar.value}, revision {record.revision}.")

    _run(work)


@draft_app.command("submit")
def draft_submit(
    consultation: ConsultationId,
    en: Annotated[Path | None, typer.Option("--en", help="The draft in English (Markdown, UTF-8).")] = None,
    es: Annotated[Path | None, typer.Option("--es", help="The draft in Spanish (Markdown, UTF-8).")] = None,
    by: By = None,
) -> None:
    """Submit the next version of the agreement; every approver receives it (with a diff) and a link to decide."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        documents = _documents(en, es)
        client = await _client(settings)
        draft = await operations.submit_draft(
            client, consultation, SubmitDraftRequest(documents=documents, requested_by=who)
        )
        out.print(f"Draft version {draft.version} submitted (SHA-256 {draft.sha256}); sent to every approver.")

    _run(work)


@draft_app.command("decide")
def draft_decide(
    consultation: ConsultationId,
    approver: Annotated[str, typer.Option(help="The approver whose decision this is.")],
    decision: Annotated[Decision, typer.Option(help="approve, request_changes or decline.")],
    comment: Annotated[str, typer.Option(help="Required to request changes or decline.")] = "",
    by: By = None,
) -> None:
    """Record an approver's decision on the current draft, on their behalf."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        client = await _client(settings)
        current = await operations.status(client, consultation)
        if not current.drafts:
            raise Failure("no draft has been submitted yet", 1)
        record = await operations.decide_agreement(
            client,
            consultation,
            DecisionRequest(
                approver=approver, decision=decision, sha256=current.drafts[-1].sha256, comment=comment, recorded_by=who
            ),
        )
        out.print(f"Recorded: {record.approver_name} ({record.party}) {record.decision.value} v{record.version}.")

    _run(work)


@agreement_app.command("start")
def agreement_start(consultation: ConsultationId, by: By = None) -> None:
    """End the technical rounds and start drafting the agreement."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        client = await _client(settings)
        await operations.start_drafting(client, consultation, StartDraftingRequest(requested_by=who))
        out.print("Stage: drafting_agreement.")

    _run(work)


@app.command()
def extend(
    consultation: ConsultationId,
    until: Annotated[str, typer.Option(help="New first-round deadline (a bare date is the end of that day).")],
    reason: Annotated[str, typer.Option(help="Why the deadline moves; recorded and sent to everyone.")],
    by: By = None,
) -> None:
    """Extend the first-round deadline, with a reason."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        client = await _client(settings)
        current = await operations.status(client, consultation)
        tz = display_tz(current.signed_at)
        request = ExtendDeadlineRequest(
            until=parse_or_fail(until, "--until", tz, end_of_day=True), reason=reason, requested_by=who
        )
        record = await operations.extend(client, consultation, request)
        out.print(f"First-round deadline extended to {fmt(record.new_deadline, tz)}.")

    _run(work)


@app.command()
def withdraw(
    consultation: ConsultationId,
    reason: Annotated[str, typer.Option(help="Why the consultation is withdrawn; sent to everyone.")],
    by: By = None,
) -> None:
    """Withdraw a consultation (everyone is notified; it cannot be undone)."""

    async def work(settings: Settings) -> None:
        who = _operator(by, settings)
        if not reason.strip():
            raise Failure("--reason: a withdrawal needs a reason", 2)
        client = await _client(settings)
        await operations.withdraw(client, consultation, WithdrawRequest(reason=reason, requested_by=who))
        out.print(f"Consultation {consultation} withdrawn.")

    _run(work)


@app.command()
def dossier(
    consultation: ConsultationId,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="The HTML file to write (the JSON goes beside it). Default: dossier-<id>.html"),
    ] = None,
) -> None:
    """Write the record of a consultation (running or finished): HTML and JSON, with a SHA-256 over the record."""
    from operations import dossier as records

    async def work(settings: Settings) -> None:
        record = await records.build(await _client(settings), consultation)
        html_path = out_file or Path(f"dossier-{record['consultation']['id']}.html")
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(records.render_html(record), encoding="utf-8")
        json_path = html_path.with_suffix(".json")
        json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        out.print(f"Wrote {html_path} and {json_path} (record SHA-256 {record['sha256']}).")

    _run(work)


@app.command()
def worker() -> None:
    """Run a worker: executes consultations and sends their mail."""
    from workers import main as worker_main

    settings = _settings()
    logs.configure(settings.log_format, settings.log_level)
    try:
        settings.link_signer()
    except ValueError as error:
        _fail(str(error), 2)
    asyncio.run(worker_main.run(settings))


@app.command()
def gateway(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the gateway that serves the pages behind email links."""
    import uvicorn

    from gateway.app import create_app

    settings = _settings()
    logs.configure(settings.log_format, settings.log_level)
    try:
        signer = settings.link_signer()
    except ValueError as error:
        _fail(str(error), 2)
    connected: list[Client] = []

    async def clients() -> Client:
        # Connected on first use, so the gateway starts (and shows 503 pages) while Temporal is down.
        if not connected:
            connected.append(await connect(settings))
        return connected[0]

    # Access logs stay off: request paths carry tokens.
    converter = data_converter(settings)
    app = create_app(
        signer=signer,
        clients=clients,
        codec=converter.payload_codec,
        codec_token=settings.codec_token.get_secret_value() if settings.codec_token else None,
        ui_origin=settings.ui_origin,
    )
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="Where the server database, outbox and logs live.")] = Path(".consult"),
    start_file: Annotated[
        Path | None, typer.Option("--start", help="A declaration to start once the stack is up (kept if it exists).")
    ] = None,
    temporal_port: Annotated[int, typer.Option(help="Temporal server (gRPC) port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    smtp_port: Annotated[int, typer.Option(help="SMTP sink port.")] = 8025,
    gateway_port: Annotated[int, typer.Option(help="Gateway port.")] = 8000,
) -> None:
    """Run the whole stack on this machine: Temporal server + UI, SMTP outbox, worker, gateway."""
    from consult.dev import DevError, Ports, run_dev

    settings = _settings()
    logs.configure("console", settings.log_level)
    try:
        example = load_declaration(start_file) if start_file else None
    except InputFileError as error:
        _fail(str(error), 2)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = Ports(temporal=temporal_port, ui=ui_port, smtp=smtp_port, gateway=gateway_port)
    try:
        asyncio.run(run_dev(out, settings, data_dir, ports, example))
    except DevError as error:
        _fail(str(error), 1)


def parse_or_fail(text: str, option: str, tz: timezone, *, end_of_day: bool) -> datetime:
    try:
        return parse_when(text, tz, end_of_day=end_of_day)
    except ValueError as error:
        raise Failure(f"{option}: {error}", 2) from None


def _documents(en: Path | None, es: Path | None, hint: str = "") -> dict[Locale, str]:
    """A document in one or both languages, from `--en` / `--es` files."""
    files = {locale: path for locale, path in ((Locale.EN, en), (Locale.ES, es)) if path is not None}
    if not files:
        raise Failure(f"give the text: --en FILE and/or --es FILE {hint}".strip(), 2)
    return {locale: read_document(path) for locale, path in files.items()}


def _pillars(text: str | None) -> list[Pillar] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {p.value for p in Pillar}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise Failure(
            f"--pillars: unknown pillar(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}", 2
        )
    return [Pillar(n) for n in dict.fromkeys(names)]  # each once, in the order given


def main() -> None:
    app()

"""`consult`: the operators' command line.

Exit codes: 0 done; 1 refused or failed (the consultation said no, or Temporal
is unreachable); 2 bad input (a file, an option, a date).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from temporalio.client import Client

from consult import logs, operations
from consult.declarations import InputFileError, describe_errors, load_declaration
from consult.settings import Settings
from consult.temporal import connect
from consult.timeparse import parse_when
from consult.views import listing_rows, show_listing, show_status
from schemas.consultation import ExtendDeadlineRequest, OpenRoundRequest, Stage, WithdrawRequest
from schemas.declaration import Pillar
from workflows.rules import display_tz, fmt

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Run intergovernmental consultations: from a signed declaration to a definitive agreement.",
)
round_app = typer.Typer(no_args_is_help=True, help="Technical rounds.")
app.add_typer(round_app, name="round")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

ConsultationId = Annotated[str, typer.Argument(help="The declaration id (or the full workflow id).")]
By = Annotated[
    str | None,
    typer.Option("--by", help="The operator acting (an email listed in the declaration). Default: $CONSULT_OPERATOR."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


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
        raise Failure(
            f"cannot reach Temporal at {settings.temporal_address} (namespace {settings.temporal_namespace}): "
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
        rows = listing_rows(await operations.list_consultations(await _client(settings), stage=stage, overdue=overdue))
        if as_json:
            out.print_json(json.dumps(rows))
        else:
            show_listing(out, rows)

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
def worker() -> None:
    """Run a worker: executes consultations and sends their mail."""
    from workers import main as worker_main

    settings = _settings()
    logs.configure(settings.log_format, settings.log_level)
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
    uvicorn.run(create_app(), host=host, port=port, log_config=None)


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
    return [Pillar(n) for n in names]


def main() -> None:
    app()

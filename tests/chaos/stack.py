"""The real parts as separate processes: the Temporal dev server on its SQLite file, two workers, the
gateway and the SMTP sink, each in a process group of its own, so that a fault is a real one (SIGKILL,
a server restarted on its file, mail refused) and every process is gone when the stack closes.

A `Stack` is also where faults are written down (`Fault`): when one starts and ends, and how long the
system took to answer again after it ended (the `recovery` of the steps waiting meanwhile).

One module, long on purpose: starting, faulting and stopping the processes share their bookkeeping.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from consult.dev import die_with_parent, temporal_server_argv
from infra.local import free_port
from infra.settings import Settings
from infra.temporal import connect
from tests.chaos.sink import Mailbox
from tests.helpers import eventually

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
OPERATOR = "secretariat@minrel.example"
# Processes still running when the interpreter exits (a failed run, Ctrl-C) are killed by this.
_LIVE: set[Proc] = set()


def _clean_env() -> dict[str, str]:
    """The suite's environment without any Temporal or consult setting it may carry from the shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CONSULT_", "TEMPORAL_"))}


def _storage_env(root: Path) -> dict[str, str]:
    """The one store every part and CLI call uses (they run in different folders, so the default
    `.consult/storage` would differ): the test run's (tests/conftest.py exports it), else the stack's own."""
    chosen = {k: v for k, v in os.environ.items() if k.startswith(("CONSULT_STORAGE", "CONSULT_S3_"))}
    return chosen or {"CONSULT_STORAGE_DIR": str(root / "storage")}


class Proc:
    """One part, in a process group of its own (so a kill takes whatever it started with it)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> Proc:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        _LIVE.add(self)
        return self

    def signal(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown of any kind."""
        self.signal(signal.SIGKILL)
        self.wait(10)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        if not self.wait(grace):
            self.signal(signal.SIGKILL)
            self.wait(10)
        # Anything left in its group (it is dead; its children must be too).
        self.signal(signal.SIGKILL)
        _LIVE.discard(self)

    def wait(self, seconds: float) -> bool:
        assert self.popen is not None
        try:
            self.popen.wait(seconds)
            return True
        except subprocess.TimeoutExpired:
            return False


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        proc.signal(signal.SIGKILL)


@dataclass
class Fault:
    kind: str
    started: float
    ended: float | None = None
    wall: float = field(default_factory=time.time)  # when it started, on the sink's clock
    recovery: float = 0.0  # seconds from its end until every step waiting meanwhile completed


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    seconds: float

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
        self.mail = Mailbox(self.root / "mail")
        # As `consult dev` starts it, headless: the Web UI costs CPU nobody looks at here.
        server = temporal_server_argv(self.temporal_port, self.root / "temporal.db", ui_port=None)
        self.temporal = Proc("temporal", server, _clean_env(), self.root / "temporal.log")
        self.sink = Proc(
            "smtp",
            [
                sys.executable,
                "-m",
                "tests.chaos.sink",
                "--port",
                str(self.smtp_port),
                "--folder",
                str(self.mail.folder),
            ],
            _clean_env(),
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
            **_clean_env(),
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
        await _eventually(lambda: _port_open(self.smtp_port), limit, "the SMTP sink")

    async def gateway_up(self, limit: float = 60) -> None:
        async def ok() -> bool:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{self.gateway_url}/healthz")).status_code == 200

        await _eventually(ok, limit, "the gateway")

    async def polling(self, worker: Proc, limit: float = 60) -> None:
        """Until `worker` (this process, by its pid) polls the task queue: it has joined."""
        identity = f"{worker.pid}@"

        async def joined() -> bool:
            if not worker.alive:
                raise RuntimeError(f"{worker.name} exited; see {worker.log}")
            assert self.client is not None
            for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
                answer = await self.client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=self.client.namespace,
                        task_queue=TaskQueue(name=self.task_queue),
                        task_queue_type=kind,
                    )
                )
                if not any(p.identity.startswith(identity) for p in answer.pollers):
                    return False
            return True

        await _eventually(joined, limit, f"{worker.name} polling {self.task_queue}")

    # --- faults -------------------------------------------------------------------------

    def fault(self, kind: str) -> Fault:
        fault = Fault(kind, time.monotonic())
        self.faults.append(fault)
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
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            str(BIN / "consult"),
            *args,
            env=self.env(**env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            cwd=self.root,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = await proc.communicate()
            return CliResult(-9, out.decode(errors="replace"), f"(killed after {timeout:.0f} s)", timeout)
        code = proc.returncode if proc.returncode is not None else -1
        return CliResult(code, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - started)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


async def _eventually(check: Callable[[], Any], limit: float, what: str) -> None:
    """Until `check()` (sync or async) is true; a part that exited (RuntimeError) fails at once."""

    async def answered() -> Any:
        try:
            result = check()
            return await result if asyncio.iscoroutine(result) else result
        except RuntimeError:
            raise
        except Exception:  # not listening yet, not polling yet
            return False

    try:
        await eventually(answered, timeout=limit, interval=0.25)
    except AssertionError:
        raise TimeoutError(f"{what} did not come up within {limit:.0f} s") from None

"""The parts, each its own process on free loopback ports, as the benchmark starts them.

- the Temporal dev server (`temporal server start-dev`, headless, SQLite file, the project's search
  attributes; its command line is `consult dev`'s, plus the namespaces the scale figures use),
- the SMTP sink (`python -m bench.sink`),
- the project: `consult worker` and `consult gateway`,
- the bare baselines: `python -m bench.bare` (worker) and `python -m bench.bare_app` (FastAPI app).

The scale figures (1,000 open consultations) start a fresh worker of each kind per repetition, on a
namespace of their own, so each measures memory from a worker's start and lists exactly its 1,000.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from bench.procs import HOST, Proc, port_open
from bench.sink import Mailbox
from consult.dev import temporal_server_argv
from infra.local import free_port
from infra.settings import Settings
from infra.temporal import connect

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OPERATOR = "secretariat@minrel.example"


def clean_env() -> dict[str, str]:
    """This environment without any Temporal or consult setting the shell may carry."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CONSULT_", "TEMPORAL_"))}


class PartExited(RuntimeError):
    """A process of the stack exited while the benchmark waited on it."""


async def eventually(check: Callable[[], Awaitable[bool]], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            if await check():
                return
        except PartExited:
            raise
        except Exception:  # not listening yet, not polling yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {limit:.0f} s")
        await asyncio.sleep(0.2)


async def polling(client: Client, proc: Proc, task_queue: str, *, activities: bool = True, limit: float) -> None:
    """Until `proc` (by its pid) polls `task_queue` on the client's namespace, for workflows and, with
    `activities`, for activities: it has joined."""
    identity = f"{proc.pid}@"
    kinds = [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]
    if activities:
        kinds.append(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)

    async def joined() -> bool:
        if not proc.alive:
            raise PartExited(f"{proc.name} exited:\n{proc.tail()}")
        for kind in kinds:
            answer = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
                )
            )
            if not any(p.identity.startswith(identity) for p in answer.pollers):
                return False
        return True

    await eventually(joined, limit, f"{proc.name} polling {task_queue}")


def persistence_operations(metrics: str) -> float:
    """The database operations a Temporal server's Prometheus text counts: every `persistence_requests`
    counter (one per operation and caller), summed; none of its latencies, errors or comments."""
    counters = (line for line in metrics.splitlines() if line.startswith("persistence_requests{"))
    return sum(float(line.rsplit(" ", 1)[1]) for line in counters)


@dataclass
class Stack:
    root: Path
    scale_namespaces: list[str] = field(default_factory=list)
    task_queue: str = field(default_factory=lambda: f"bench-{secrets.token_hex(3)}")
    bare_queue: str = field(default_factory=lambda: f"bare-{secrets.token_hex(3)}")
    link_keys: str = field(default_factory=lambda: f"bench:{secrets.token_urlsafe(48)}")
    temporal_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    bare_app_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)  # the Temporal server's Prometheus metrics
    procs: list[Proc] = field(default_factory=list)
    clients: dict[tuple[str, bool], Client] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.mail = Mailbox(self.root / "mail.jsonl")
        extra = [arg for ns in self.scale_namespaces for arg in ("--namespace", ns)]
        server = [
            *temporal_server_argv(self.temporal_port, self.root / "temporal.db", ui_port=None),
            *("--metrics-port", str(self.metrics_port)),
            *extra,
        ]
        self.temporal = self._proc("temporal", server, clean_env())
        self.sink = self._proc(
            "smtp-sink",
            [sys.executable, "-m", "bench.sink", "--port", str(self.smtp_port), "--index", str(self.mail.index)],
            clean_env(),
        )
        self.worker = self.project_worker("default", "worker")
        self.gateway = self._proc(
            "gateway", [str(BIN / "consult"), "gateway", "--host", HOST, "--port", str(self.gateway_port)], self.env()
        )
        self.bare_worker = self.baseline_worker("default", "bare-worker")
        self.bare_app = self._proc(
            "bare-app",
            [sys.executable, "-m", "bench.bare_app", "--address", self.address, "--port", str(self.bare_app_port)],
            clean_env(),
        )

    def _proc(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.root / f"{name}.log", ROOT)
        self.procs.append(proc)
        return proc

    def project_worker(self, namespace: str, name: str) -> Proc:
        return self._proc(name, [str(BIN / "consult"), "worker"], self.env(namespace))

    def baseline_worker(self, namespace: str, name: str) -> Proc:
        argv = [sys.executable, "-m", "bench.bare", "--address", self.address, "--namespace", namespace]
        return self._proc(name, [*argv, "--task-queue", self.bare_queue], clean_env())

    @property
    def address(self) -> str:
        return f"{HOST}:{self.temporal_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    @property
    def bare_url(self) -> str:
        return f"http://{HOST}:{self.bare_app_port}"

    def env(self, namespace: str = "default") -> dict[str, str]:
        """What the project's processes (worker, gateway, CLI) are given."""
        return {
            **clean_env(),
            "CONSULT_TEMPORAL_ADDRESS": self.address,
            "CONSULT_TEMPORAL_NAMESPACE": namespace,
            "CONSULT_TASK_QUEUE": self.task_queue,
            "CONSULT_SMTP_HOST": HOST,
            "CONSULT_SMTP_PORT": str(self.smtp_port),
            "CONSULT_LINK_KEYS": self.link_keys,
            "CONSULT_GATEWAY_URL": self.gateway_url,
            "CONSULT_LOG_LEVEL": "WARNING",
            "CONSULT_OPERATOR": OPERATOR,
            "COLUMNS": "200",
        }

    # --- clients ----------------------------------------------------------------------------------

    async def client(self, namespace: str = "default", *, project: bool = True) -> Client:
        """The project's client (its data converter) or a plain SDK client, one per namespace."""
        key = (namespace, project)
        if key not in self.clients:
            if project:
                settings = Settings(
                    temporal_address=self.address, temporal_namespace=namespace, task_queue=self.task_queue
                )
                self.clients[key] = await connect(settings)
            else:
                self.clients[key] = await Client.connect(self.address, namespace=namespace)
        return self.clients[key]

    # --- starting and stopping -------------------------------------------------------------------

    async def start(self) -> Stack:
        self.temporal.start()
        self.sink.start()
        await self.temporal_up()
        for proc in (self.worker, self.gateway, self.bare_worker, self.bare_app):
            proc.start()
        await asyncio.gather(
            eventually(self._sink_up, 60, "the SMTP sink"),
            eventually(lambda: self._http_ok(self.gateway_url), 90, "the gateway"),
            eventually(lambda: self._http_ok(self.bare_url), 90, "the bare app"),
            self.polling(self.worker, "default", self.task_queue),
            self.polling(self.bare_worker, "default", self.bare_queue),
        )
        return self

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    async def temporal_up(self, limit: float = 90) -> None:
        async def up() -> bool:
            if not self.temporal.alive:
                raise PartExited(f"the Temporal dev server exited:\n{self.temporal.tail()}")
            client = await self.client()
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
            for ns in self.scale_namespaces:
                await self.client(ns)
            return True

        await eventually(up, limit, "the Temporal dev server")

    async def _sink_up(self) -> bool:
        if not self.sink.alive:
            raise PartExited(f"the SMTP sink exited:\n{self.sink.tail()}")
        return port_open(self.smtp_port)

    async def _http_ok(self, url: str) -> bool:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{url}/healthz")).status_code == 200

    async def polling(self, proc: Proc, namespace: str, task_queue: str, limit: float = 90) -> None:
        """Until `proc` polls its task queue, for workflows and, if it has any (the project's), activities."""
        client = await self.client(namespace)
        await polling(client, proc, task_queue, activities=task_queue == self.task_queue, limit=limit)

    async def database_operations(self) -> float:
        """How many database operations the Temporal server has made since it started (its
        `persistence_requests` counters, every operation summed): on the dev server's SQLite file, with
        one connection, what the server's throughput is bound by."""
        async with httpx.AsyncClient(timeout=10) as http:
            return persistence_operations((await http.get(f"http://{HOST}:{self.metrics_port}/metrics")).text)

    def check_alive(self) -> None:
        for proc in (self.temporal, self.sink, self.worker, self.gateway, self.bare_worker, self.bare_app):
            if not proc.alive:
                raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")

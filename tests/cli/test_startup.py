"""What `consult` loads to start: which modules, not how long it takes (a timing would depend on the machine).

`consult --help` loads neither the Temporal SDK nor pydantic and the schemas; `consult status ID` loads no
workflow code, and none of what only the worker, the gateway or the dossier use (Jinja, the SMTP client,
Markdown, PyJWT), nor structlog until something logs. Each is checked in a fresh interpreter, running the
command for real. (Typer's own help renders through Rich's Markdown, so markdown-it is loaded by `--help`,
never by a command.)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from enum import StrEnum

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from consult.cli.options import DecisionChoice, PillarChoice, StageChoice
from consult.outbox import Outbox
from operations.consultations import start
from schemas.approvals import Decision
from schemas.consultation import Stage
from schemas.declaration import Pillar
from tests.helpers import make_declaration, running_worker

# Runs `consult ARGS` through Typer's runner (the console script would leave with os._exit before a
# report), then prints its exit code and the modules it loaded.
RUN = """
import json, sys
from typer.testing import CliRunner
from consult.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"exit_code": result.exit_code, "output": result.output, "modules": sorted(sys.modules)}))
"""
STATUS_MUST_NOT_LOAD = [
    "jinja2",
    "aiosmtplib",
    "markdown_it",
    "workflows",
    "workflows.consultation",
    "activities",
    "structlog",
]
HELP_MUST_NOT_LOAD = ["temporalio", "pydantic", "schemas", "operations", "infra", "jinja2", "aiosmtplib", "jwt"]


def _consult(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return report


def test_help_loads_neither_temporal_nor_the_schemas() -> None:
    report = _consult("--help")
    assert report["exit_code"] == 0 and " status " in str(report["output"])
    modules = set(report["modules"])  # type: ignore[call-overload]
    assert [m for m in HELP_MUST_NOT_LOAD if m in modules] == []


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def status_modules(dev_env: WorkflowEnvironment, outbox: Outbox) -> AsyncIterator[set[str]]:
    """The modules `consult status ID` loaded, run against a real consultation."""
    declaration = make_declaration(await dev_env.get_current_time())
    async with running_worker(dev_env.client, outbox) as task_queue:
        await start(dev_env.client, declaration, task_queue)
        env = {"CONSULT_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
        # In a thread: this loop runs the worker that answers the status query.
        report = await asyncio.to_thread(_consult, "status", declaration.id, env=env)
    assert report["exit_code"] == 0 and declaration.title in str(report["output"]), report["output"]
    yield set(report["modules"])  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "module",
    [
        *STATUS_MUST_NOT_LOAD,
        "jwt",
    ],
)
def test_status_loads_no_workflow_nor_what_only_workers_and_the_gateway_use(
    status_modules: set[str], module: str
) -> None:
    assert module not in status_modules


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def test_the_choices_the_cli_offers_are_the_schemas() -> None:
    """The CLI spells them out so that `consult --help` need not import the schemas (and pydantic)."""
    assert _values(PillarChoice) == _values(Pillar)
    assert _values(StageChoice) == _values(Stage)
    assert _values(DecisionChoice) == _values(Decision)

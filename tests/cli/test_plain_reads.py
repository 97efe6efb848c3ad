"""`consult status ID [--json]` and `consult list [--json]` run by the console script without Typer
(`consult.cli.reads`): the same output, errors and exit codes as through the Typer app, with less loaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from consult.cli.reads import plain_read
from consult.outbox import Outbox
from operations.consultations import start
from tests.helpers import eventually, make_declaration, running_worker
from tests.helpers.cli import Consult

# The console script: `main` runs the command, then leaves with os._exit.
SCRIPT = "from consult.cli import main; main()"


@pytest.mark.parametrize(
    ("args", "plain"),
    [
        (["status", "x"], True),
        (["status", "x", "--json"], True),
        (["status", "--json", "x"], True),
        (["list"], True),
        (["list", "--json"], True),
        (["status"], False),
        (["status", "--help"], False),
        (["status", "-x"], False),
        (["status", " "], False),
        (["status", "x", "--json", "--json"], False),
        (["list", "--stage", "declared"], False),
        (["list", "--overdue", "--json"], False),
        (["--help"], False),
        ([], False),
        (["round", "status", "x"], False),
    ],
)
def test_only_the_plain_forms_skip_typer(args: list[str], plain: bool) -> None:
    assert (plain_read(args) is not None) is plain


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def consultation(dev_env: WorkflowEnvironment, outbox: Outbox) -> AsyncIterator[tuple[Consult, str]]:
    declaration = make_declaration(await dev_env.get_current_time())
    async with running_worker(dev_env.client, outbox) as task_queue:
        await start(dev_env.client, declaration, task_queue)
        consult = Consult(dev_env.client, task_queue)

        async def settled() -> bool:  # nothing left to change between the two runs compared
            status = await consult.json("status", declaration.id)
            return bool(status["notices"]) and all(n["state"] == "delivered" for n in status["notices"])

        await eventually(settled)
        yield consult, declaration.id


def _script(consult: Consult, *args: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **consult.env},
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("status", "{id}"),
        ("status", "{id}", "--json"),
        ("status", "--json", "{id}"),
        ("status", "no-such-consultation"),
        ("list", "--json"),
        ("list",),
    ],
)
async def test_a_plain_read_says_what_typer_says(consultation: tuple[Consult, str], args: tuple[str, ...]) -> None:
    consult, cid = consultation
    argv = [a.format(id=cid) for a in args]
    # In threads: this loop runs the worker that answers the status query.
    typer_run = await consult(*argv)
    plain_run = await asyncio.to_thread(_script, consult, *argv)
    assert plain_run.returncode == typer_run.exit_code, plain_run.stderr
    assert plain_run.stdout == typer_run.stdout
    assert plain_run.stderr == typer_run.stderr


async def test_a_plain_read_loads_neither_typer_nor_the_other_commands(consultation: tuple[Consult, str]) -> None:
    consult, cid = consultation
    for argv in (["status", cid], ["list", "--json"]):
        run = await asyncio.to_thread(_script, consult, *argv, python_flags=("-X", "importtime"))
        assert run.returncode == 0, run.stderr
        loaded = {
            line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")
        }
        assert "consult.cli.reads" in loaded
        assert [m for m in ("typer", "click", "consult.cli.root", "consult.cli.options") if m in loaded] == []
        if argv[0] == "list":  # nor any model: the rows are read as plain values
            assert [m for m in loaded if m.startswith("schemas.") and m != "schemas.search_attributes"] == []

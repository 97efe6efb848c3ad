"""Running `consult` as an operator would, through Typer's runner, against the test's server."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from typer.testing import CliRunner, Result

from consult.cli import app
from tests.helpers import CL_OPERATOR, DAY, declaration_data, eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "inputs"


class Consult:
    """Runs `consult ...` as an operator would, pointed at the test's server and task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.env = {
            "CONSULT_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "CONSULT_TASK_QUEUE": task_queue,
            "CONSULT_OPERATOR": "",
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str, **env: str) -> Result:
        runner = CliRunner()
        # The CLI runs its own event loop; keep it off the loop that runs the worker.
        return await asyncio.to_thread(lambda: runner.invoke(app, list(args), env={**self.env, **env}))

    async def json(self, *args: str) -> Any:
        result = await self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def write_declaration(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


async def started_with_round(consult: Consult, tmp_path: Path, now: datetime) -> str:
    """A consultation started and its first round opened (supply chain and financing) through `consult`, once
    the round answers; its id."""
    data = declaration_data(now)
    cid: str = data["id"]
    assert (await consult("start", str(write_declaration(tmp_path, data)))).exit_code == 0
    opened = await consult(
        "round",
        "open",
        cid,
        "--meeting",
        (now + 10 * DAY).isoformat(),
        "--inputs-due",
        (now + 8 * DAY).isoformat(),
        "--pillars",
        "supply_chain,financing",
        "--by",
        CL_OPERATOR,
    )
    assert opened.exit_code == 0, opened.output
    await eventually(lambda: _round_ready(consult, cid))
    return cid


async def _round_ready(consult: Consult, cid: str) -> bool:
    return (await consult("round", "status", cid, "--json")).exit_code == 0

"""Running `consult` as an operator would, through Typer's runner, against the test's server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from typer.testing import CliRunner, Result

from consult.cli import app

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

"""Every `consult` exit is 0, 1 or 2: the console script as a real process, called 200 times.

The SDK's Rust runtime threads could abort Python's teardown after a command had done its work
(`Fatal Python error: PyGILState_Release`, exit 134 or 139: about 1 call in 100, 1 in 8 on error
paths); `consult.cli:main` now leaves with `os._exit` once the command is done.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations.consultations import start
from schemas.declaration import Declaration
from tests.helpers import declaration_data, running_worker

CONSULT = str(Path(sys.executable).parent / "consult")
CALLS = 200
AT_ONCE = 4


async def _consult(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        CONSULT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **env}
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, (out + err).decode(errors="replace")


async def test_200_consult_calls_exit_0_1_or_2_and_nothing_else(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("id: x\ntitle: |\n  two\n  lines\n")
    async with running_worker(dev_env.client, outbox) as task_queue:
        await start(dev_env.client, declaration, task_queue)
        env = {"CONSULT_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
        calls = [
            (("status", declaration.id), 0),  # success
            (("status", "does-not-exist"), 1),  # the error path that aborted 1 time in 8
            (("start", str(bad_file)), 2),  # a bad file, no Temporal call at all
            (("round", "status", declaration.id), 1),  # refused: no round yet
        ]
        limit = asyncio.Semaphore(AT_ONCE)

        async def one(i: int) -> tuple[int, int, str]:
            args, expected = calls[i % len(calls)]
            async with limit:
                code, output = await _consult(*args, env=env)
            return expected, code, output

        began = time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(CALLS)))
        took = time.monotonic() - began

    codes = Counter(code for _, code, _ in results)
    unexpected = [(expected, code, output[-300:]) for expected, code, output in results if code != expected]
    assert not unexpected, f"{codes} in {took:.0f} s; first unexpected: {unexpected[:3]}"
    assert codes == {0: CALLS // 4, 1: CALLS // 2, 2: CALLS // 4}
    assert not any("Fatal Python error" in output or "Traceback" in output for _, _, output in results)

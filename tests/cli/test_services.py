"""`consult gateway`, the production entry point behind email links, as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from infra.local import free_port
from tests.helpers import eventually

CONSULT = str(Path(sys.executable).parent / "consult")
LINK_KEYS = "prod-2026:" + "p" * 48


async def _serve(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CONSULT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, **env}
    )


async def _stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    return out.decode()


async def test_the_gateway_serves_its_health_page_and_stops_on_sigterm(dev_env: WorkflowEnvironment) -> None:
    port = free_port()
    env = {"CONSULT_LINK_KEYS": LINK_KEYS, "CONSULT_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
    process = await _serve("gateway", "--port", str(port), env=env)
    try:
        async with httpx.AsyncClient() as http:

            async def healthy() -> bool:
                try:
                    return bool((await http.get(f"http://127.0.0.1:{port}/healthz")).json() == {"status": "ok"})
                except httpx.TransportError:
                    return False

            await eventually(healthy, timeout=20)
    finally:
        output = await _stop(process)
    # A clean shutdown: uvicorn finishes its requests, then re-raises the SIGTERM it caught.
    assert process.returncode in (0, -signal.SIGTERM) and "Finished server process" in output, output
    assert LINK_KEYS.split(":")[1] not in output  # the key never reaches the log


async def test_the_gateway_without_link_keys_says_what_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CONSULT_LINK_KEYS"}
    process = await asyncio.create_subprocess_exec(
        CONSULT,
        "gateway",
        "--port",
        str(free_port()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode != 0
    assert "CONSULT_LINK_KEYS" in out.decode() and "Traceback" not in out.decode()

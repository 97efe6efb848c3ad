"""`consult dev --start FILE`, what `make run` runs: the whole stack as a real process, then a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from consult.outbox import read_eml
from infra.local import free_port
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "chile-us-2026.yaml"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_dev_stack_starts_the_example_and_stops_every_part(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("temporal", "ui", "smtp", "gateway")}
    consult = str(Path(sys.executable).parent / "consult")
    env = {**os.environ, "CONSULT_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}", "COLUMNS": "200"}
    args = [f"--{name}-port={port}" for name, port in ports.items()]
    process = await asyncio.create_subprocess_exec(
        consult,
        "dev",
        "--data-dir",
        str(tmp_path),
        "--start",
        str(EXAMPLE),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        while not any("Press Ctrl-C" in line for line in seen):
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "consult dev exited early:\n" + "".join(seen)
            seen.append(line.decode())
        printed = "".join(seen)
        assert f"http://127.0.0.1:{ports['ui']}/namespaces/default/workflows" in printed
        assert str(tmp_path / "outbox") in printed
        assert "Started consultation-cl-us-critical-minerals-2026" in printed

        # The opening notice lands in the outbox as real .eml files, one per person.
        files = await eventually(
            lambda: len(list((tmp_path / "outbox").glob("*.eml"))) >= 8 and list((tmp_path / "outbox").glob("*.eml")),
            timeout=20,
        )
        # Python folds a long Subject onto a continuation line; mail clients unfold and strip it.
        subjects = {read_eml(f)["Subject"].strip() for f in files}
        assert "Consulta abierta: Joint Declaration on Critical Minerals and Rare Earths" in subjects

        status = await asyncio.create_subprocess_exec(
            consult, "status", "cl-us-critical-minerals-2026", env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await status.communicate()
        assert status.returncode == 0 and b"CL, US" in out

        for port in ports.values():
            assert _listening(port)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, "".join(seen) + rest.decode()
    assert "Traceback" not in rest.decode()
    assert not any(_listening(port) for port in ports.values())
    assert (tmp_path / "temporal.db").exists()

"""Processes the benchmark (and the chaos suite, tests/chaos) starts, and what it reads of them (RSS, CPU
time) from /proc.

Every process gets a session (process group) of its own and SIGTERM if the benchmark dies
outright (PR_SET_PDEATHSIG); an `atexit` hook SIGKILLs any group still alive, so a failed or
interrupted run leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from consult.dev import die_with_parent

HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")
_LIVE: set[Proc] = set()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


class Proc:
    """One part in a process group of its own, its output appended to `log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> None:
        self.name, self.argv, self.env, self.log, self.cwd = name, argv, env, log, cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.last_cpu = 0.0  # its CPU seconds when last read (kept once it has stopped)

    def cpu(self) -> float:
        """CPU seconds it has used, read while it runs, remembered after it stopped."""
        if self.alive:
            with contextlib.suppress(OSError, ValueError, IndexError):
                self.last_cpu = cpu_seconds(self.pid)
        return self.last_cpu

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> Proc:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
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
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL to its group, as a crash: no shutdown of any kind."""
        self.signal(signal.SIGKILL)
        self.wait(10)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM to its group, SIGKILL after `grace` seconds, then SIGKILL whatever is left in the group."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.cpu()
            self.signal(signal.SIGTERM)
            if not self.wait(grace):
                self.signal(signal.SIGKILL)
                self.wait(10)
        self.signal(signal.SIGKILL)
        _LIVE.discard(self)

    def wait(self, seconds: float) -> bool:
        """Until it has exited (True), or `seconds` have passed (False)."""
        assert self.popen is not None, f"{self.name} was never started"
        try:
            self.popen.wait(seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        proc.signal(signal.SIGKILL)


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def idle(pid: int, *, window: float = 2.0, busy_below: float = 0.05, limit: float = 120) -> bool:
    """Until the process used less than `busy_below` of a core over the last `window` seconds; False if it
    was still busy after `limit` seconds."""
    deadline = time.monotonic() + limit
    samples: list[tuple[float, float]] = []
    while time.monotonic() < deadline:
        samples.append((time.monotonic(), cpu_seconds(pid)))
        old = [s for s in samples if samples[-1][0] - s[0] >= window]
        if old:
            (t0, c0), (t1, c1) = old[-1], samples[-1]
            if (c1 - c0) / (t1 - t0) < busy_below:
                return True
        await asyncio.sleep(0.25)
    return False


@dataclass
class Timed:
    code: int
    seconds: float
    stdout: str
    stderr: str


async def timed_run(argv: list[str], env: dict[str, str], cwd: Path, limit: float = 60) -> Timed:
    """A command as an operator runs it: wall time from spawn to exit (output read to the end)."""
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = await proc.communicate()
        return Timed(-9, limit, out.decode(errors="replace"), f"killed after {limit:.0f} s")
    seconds = time.perf_counter() - started
    code = proc.returncode if proc.returncode is not None else -1
    return Timed(code, seconds, out.decode(errors="replace"), err.decode(errors="replace"))


def machine_busy() -> float:
    """CPU seconds every core of the machine has been busy since boot (/proc/stat, all processes)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle_ticks = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle_ticks) / TICKS

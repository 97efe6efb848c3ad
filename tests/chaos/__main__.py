"""`python -m tests.chaos` (or `make chaos`): the full chaos run, one stack of real processes, every fault.

Prints one row per fault (count, lost, duplicated, stalled, wrong answers, re-sent in flight, max
recovery time) and the problems found, and exits 1 on any of them but a re-send in flight: a message
SMTP accepted within 100 ms before a worker's SIGKILL, before Temporal heard its activity finish, goes
out again (at-least-once: SMTP has no two-phase commit). It is counted in its own column and named.
`--only` runs some scenarios; the defaults are the ones issue 10 asks for (20+ worker kills, a 60 s
SMTP outage, a 1,000+ recipient notice killed mid-send).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.chaos import scenarios
from tests.chaos.scenarios import Row
from tests.chaos.stack import Stack

SCENARIOS = ("kills", "mid-send", "smtp", "restart", "hostile")


def say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201  # the runner's report is its output


async def run(args: argparse.Namespace) -> list[Row]:
    root = Path(args.data_dir or tempfile.mkdtemp(prefix="chaos-"))
    say(f"chaos: data, logs and mail under {root}")
    rows: list[Row] = []
    async with Stack(root) as stack:
        say(f"chaos: stack up (Temporal {stack.address}, gateway {stack.gateway_url}, SMTP :{stack.smtp_port})")
        for name in args.only or SCENARIOS:
            started = time.monotonic()
            say(f"chaos: {name} …")
            if name == "kills":
                found = [await scenarios.worker_kills(stack, kills=args.kills)]
            elif name == "mid-send":
                found = [await scenarios.kill_mid_send(stack, recipients=args.recipients)]
            elif name == "smtp":
                found = [await scenarios.smtp_outage(stack, seconds=args.outage)]
            elif name == "restart":
                found = [await scenarios.temporal_restart(stack, down=args.down)]
            else:
                found = await scenarios.hostile_input(stack)
            for row in found:
                for note in row.notes:
                    say(f"chaos:   {note}")
                verdict = "ok" if row.ok else f"{len(row.problems)} problem(s)"
                say(f"chaos:   {row.fault}: {row.count}, {verdict} ({time.monotonic() - started:.0f} s)")
            rows += found
    return rows


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios, in this order")
    parser.add_argument("--kills", type=int, default=20, help="worker SIGKILLs at random points (default 20)")
    parser.add_argument("--recipients", type=int, default=1000, help="recipients of the notice killed mid-send")
    parser.add_argument("--outage", type=float, default=60, help="seconds SMTP is down (default 60)")
    parser.add_argument("--down", type=float, default=10, help="seconds the Temporal server is down (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random kill points")
    parser.add_argument("--data-dir", help="where the stack keeps its files (default: a new temporary folder)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    say(f"chaos: seed {seed}")
    # SIGTERM unwinds like Ctrl-C, so the stack's processes are stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    try:
        rows = asyncio.run(run(args))
    except KeyboardInterrupt:
        say("chaos: interrupted; every process it started is stopped")
        return 130
    say()
    say(scenarios.table(rows))
    if any(not r.ok for r in rows):
        say("\nProblems:")
        say(scenarios.problems(rows))
    say(f"\nchaos: {time.monotonic() - started:.0f} s, seed {seed}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    code = main()
    # The SDK's runtime threads can abort a normal interpreter exit (sdk-python#300): leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

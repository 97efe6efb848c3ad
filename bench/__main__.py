"""`python -m bench` (`make bench`): see bench/__init__.py for what it measures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bench.figures import missed, notes, table
from bench.run import FULL, QUICK, Bench, Figures, Noise, machine, say
from bench.stack import Stack

GROUPS = ("history", "links", "lifecycles", "scale")


async def run(args: argparse.Namespace, root: Path) -> int:
    sizes = QUICK if args.quick else FULL
    if args.reps:
        sizes = replace(sizes, reps=args.reps)
    if args.lifecycles:
        sizes = replace(sizes, lifecycles=args.lifecycles)
    figures = Figures(sizes)
    namespaces = [f"bench-{side}{r + 1}" for r in range(sizes.reps) for side in ("project", "bare")]
    stack = Stack(root, scale_namespaces=namespaces)
    started = time.monotonic()
    say(f"bench: machine: {machine()}")
    say(f"bench: {'quick' if args.quick else 'full'} run, {sizes.reps} repetition(s); files under {root}")
    groups = args.only or GROUPS
    bench = Bench(stack, sizes, figures)
    try:
        try:
            await stack.start()
        except Exception as error:
            say(f"bench: the stack did not start: {type(error).__name__}: {error}")
            return 1
        say(f"bench: stack up in {time.monotonic() - started:.0f} s (Temporal {stack.address})")
        steps: list[tuple[str, str, Callable[[], Awaitable[None]]]] = [
            ("history", "history of one lifecycle", bench.history),
            ("links", "consultations at minutes approval (setup)", bench.setup_links),
            ("links", "gateway link page GETs", bench.link_pages),
            ("links", "decision POSTs", bench.posts),
            ("links", "decisions visible in status", bench.visible),
            ("links", "the CLI", bench.cli),
            ("lifecycles", "concurrent lifecycles", bench.lifecycles),
            ("scale", "open consultations", bench.scale),
        ]
        broken: set[str] = set()
        for group, what, step in steps:
            if group not in groups or group in broken:
                continue
            say(f"bench: {what} …")
            noise = Noise(stack)
            try:
                stack.check_alive()
                await bench.settle()
                await step()
            except Exception:
                broken.add(group)  # the group's later steps depend on this one
                say(f"bench:   FAILED: {traceback.format_exc().strip().splitlines()[-1]}")
                (root / "errors.log").open("a").write(traceback.format_exc() + "\n")
            say(f"bench:   {noise.others()}")
    finally:
        stack.close()
    say()
    say(f"bench: machine: {machine()}")
    say(f"bench: total {time.monotonic() - started:.0f} s; medians of {sizes.reps} repetition(s)")
    say("bench: ratio = how many times worse than bare (project/bare; bare/project for throughput),")
    say("bench: the median of the per-repetition ratios")
    say()
    say(table(figures.of(groups)))
    for note in notes(figures.of(groups)):
        say(f"  - {note}")
    if "history" in groups and bench.type_table:
        say()
        say("\n".join(bench.type_table))
    failed = missed(figures.of(groups))
    say()
    if failed:
        say(f"bench: {len(failed)} target(s) missed: " + "; ".join(f.name for f in failed))
        return 1
    say("bench: every target met")
    return 0


_signals: list[str] = []


def _interrupted(number: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so the stack is stopped on the way out."""
    _signals.append(signal.Signals(number).name)
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and one repetition, for development")
    parser.add_argument("--reps", type=int, help="repetitions of each figure (default 3; 1 with --quick)")
    parser.add_argument("--lifecycles", type=int, help="concurrent lifecycles of figure 3 (default 100)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="only these groups of figures")
    parser.add_argument("--data-dir", type=Path, help="where the run keeps its files (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the run's files (logs, server database)")
    args = parser.parse_args()
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="consult-bench-"))
    signal.signal(signal.SIGTERM, _interrupted)
    code = 1
    try:
        code = asyncio.run(run(args, root))
    except KeyboardInterrupt:
        say(f"bench: interrupted ({_signals[-1] if _signals else 'SIGINT'}); every process it started is stopped")
        code = 130
    finally:
        if not args.keep and args.data_dir is None and code == 0:
            shutil.rmtree(root, ignore_errors=True)
        elif code != 0:
            say(f"bench: logs kept under {root}")
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()

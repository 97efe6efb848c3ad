"""`python -m bench.bare --address A --namespace N --task-queue Q`: the bare worker process.

Plain temporalio defaults (default data converter, default sandbox, default worker knobs, as the
project's worker leaves its own), one workflow, no activities. SIGTERM shuts it down.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_workflow import BareWorkflow


async def serve(address: str, namespace: str, task_queue: str) -> None:
    client = await Client.connect(address, namespace=namespace)
    worker = Worker(client, task_queue=task_queue, workflows=[BareWorkflow])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args()
    code = 0
    try:
        asyncio.run(serve(args.address, args.namespace, args.task_queue))
    except Exception as error:
        print(f"bare worker: {error!r}", file=sys.stderr)  # noqa: T201
        code = 1
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)  # sdk-python#300: no interpreter teardown under the SDK's runtime threads


if __name__ == "__main__":
    main()

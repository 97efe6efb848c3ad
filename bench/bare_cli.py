"""`python -m bench.bare_cli status|list ...`: the bare CLI baseline, an SDK script as short as it gets.

`status WORKFLOW_ID`: connect, one query, print it as JSON. `list`: connect, `list_workflows` of the
trivial workflows, print them as JSON. Both leave with `os._exit`, as `consult` does (sdk-python#300).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from temporalio.client import Client


async def status(client: Client, workflow_id: str) -> Any:
    return await client.get_workflow_handle(workflow_id).query("status")


async def listing(client: Client) -> Any:
    return [
        {
            "id": e.id,
            "status": e.status.name.lower() if e.status else "unknown",
            "started": e.start_time.isoformat(),
            "task_queue": e.task_queue,
        }
        async for e in client.list_workflows("WorkflowType = 'BareWorkflow'")
    ]


async def run(args: argparse.Namespace) -> Any:
    client = await Client.connect(args.address, namespace=args.namespace)
    return await (status(client, args.workflow_id) if args.command == "status" else listing(client))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["status", "list"])
    parser.add_argument("workflow_id", nargs="?", default="")
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))  # noqa: T201
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

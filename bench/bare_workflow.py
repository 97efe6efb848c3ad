"""The bare baseline's workflow: plain temporalio, nothing of the project's.

It takes each update's request (a JSON object), keeps it and answers it back (the project's updates
answer a record of what they recorded); its query answers how many it has and the last one. It waits
on a 15-day timer, as a declared consultation waits on its first-round deadline, and ends after its
`updates`-th update (never, with 0).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow

NAME = "BareWorkflow"
UPDATE = "record"
QUERY = "status"


@workflow.defn(name=NAME)
class BareWorkflow:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    @workflow.run
    async def run(self, updates: int) -> int:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: updates > 0 and len(self.records) >= updates, timeout=timedelta(days=15)
            )
        return len(self.records)

    @workflow.update(name=UPDATE)
    async def record(self, request: dict[str, Any]) -> dict[str, Any]:
        self.records.append(request)
        return request

    @workflow.query(name=QUERY)
    def status(self) -> dict[str, Any]:
        return {"records": len(self.records), "last": self.records[-1] if self.records else None}

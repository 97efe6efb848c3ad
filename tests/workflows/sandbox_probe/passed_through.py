"""The same helper imported as the workflows used to import theirs: passed through, unchecked."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tests.workflows.sandbox_probe.clock_helper import stamp


@workflow.defn(sandboxed=True)
class PassedThroughHelper:
    @workflow.run
    async def run(self) -> str:
        return stamp()

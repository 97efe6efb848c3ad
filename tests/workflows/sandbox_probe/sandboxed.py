"""The helper imported as the project's workflows import theirs: normally, inside the sandbox."""

from __future__ import annotations

from temporalio import workflow

from tests.workflows.sandbox_probe.clock_helper import stamp


@workflow.defn(sandboxed=True)
class SandboxedHelper:
    @workflow.run
    async def run(self) -> str:
        return stamp()

"""Workflow helpers run inside the sandbox: a helper that reads the clock fails the workflow task.

A passed-through module is not checked by the sandbox, so a helper there that calls
`datetime.now()` would run silently and break replay months later. The project's
workflows import their helpers normally and the checked runner (every test, the
replayer) passes through only the schemas, the activity interfaces and third-party
libraries; production workers also share the project's workflow code (workers/sandbox.py).
"""

from __future__ import annotations

import ast
import asyncio
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.sandbox_probe.passed_through import PassedThroughHelper
from tests.workflows.sandbox_probe.sandboxed import SandboxedHelper
from workers.sandbox import PASSTHROUGH, workflow_runner

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


async def _first_task_failure(handle: WorkflowHandle[object, object], timeout: float = 10.0) -> str | None:
    """The message of the first failed workflow task, or None once the workflow completes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return event.workflow_task_failed_event_attributes.failure.message
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                return None
        await asyncio.sleep(0.1)
    raise AssertionError("the workflow neither completed nor failed a task")


async def _run(client: Client, workflow: type) -> str | None:
    task_queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[workflow], workflow_runner=workflow_runner()):
        handle = await client.start_workflow(
            workflow.run,  # type: ignore[attr-defined]
            id=f"sandbox-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        failure = await _first_task_failure(handle)
        if failure is not None:
            await handle.terminate()  # a failing task would otherwise retry forever
        return failure


async def test_a_helper_that_reads_the_clock_fails_the_workflow_task(dev_env: WorkflowEnvironment) -> None:
    failure = await _run(dev_env.client, SandboxedHelper)
    assert failure is not None and "Cannot access datetime.datetime.now" in failure


async def test_the_same_helper_passed_through_would_run_unchecked(dev_env: WorkflowEnvironment) -> None:
    # What the workflows did before: the clock read goes unnoticed, and replay breaks later.
    assert await _run(dev_env.client, PassedThroughHelper) is None


def _passes_through(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.Attribute) and node.attr == "imports_passed_through" for node in ast.walk(tree))


def test_project_workflow_helpers_are_not_passed_through() -> None:
    modules = sorted(WORKFLOWS_DIR.glob("*.py"))
    assert len(modules) > 5
    assert [p.name for p in modules if _passes_through(p)] == []
    # ...and the checked runner (tests, replay) does not pass them through either: only data, activity
    # interfaces and libraries. Production workers share `workflows` and `infra` (workers/sandbox.py), nothing else.
    assert not {"workflows", "infra", "operations", "gateway", "consult", "workers"} & set(PASSTHROUGH)
    checked = workflow_runner().restrictions.passthrough_modules
    shared = workflow_runner(shared_project_code=True).restrictions.passthrough_modules
    assert not {"workflows", "infra"} & checked
    assert shared - checked == {"workflows", "infra"}

"""With no worker on the consultation's task queue, every `consult` path ends in words and exit 1, never
a traceback: an action is sent once more with the same update id and the operator is told what that means;
a read says no worker answered. The timeouts are cut to a second here (`operations.consultations`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import PollWorkflowTaskQueueRequest
from temporalio.testing import WorkflowEnvironment
from typer.testing import Result

from operations import consultations as operations
from schemas.declaration import Declaration
from tests.helpers import CL_OPERATOR, DAY, declaration_data
from tests.helpers.cli import Consult


def _said(result: Result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # ended by the CLI, not by an error
    assert "Traceback" not in result.output
    assert words in result.stderr, result.stderr


async def test_with_no_worker_an_action_is_sent_twice_then_said_and_every_read_says_no_worker_answered(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    cid, queue = declaration.id, f"no-worker-{declaration.id}"
    await operations.start(dev_env.client, declaration, queue)
    monkeypatch.setattr(operations, "UPDATE_TIMEOUT", timedelta(seconds=1))
    monkeypatch.setattr(operations, "QUERY_TIMEOUT", timedelta(seconds=1))
    consult = Consult(dev_env.client, queue)
    until = (now + 30 * DAY).date().isoformat()

    extended = await consult("extend", cid, "--until", until, "--reason", "Agendas", "--by", CL_OPERATOR)
    _said(extended, "no worker answered in time: the request was sent, then sent once more with the same update id")
    _said(extended, "Repeating the same command is safe: it is recorded at most once.")

    unanswered = f"no worker answered within 1 s; is `consult worker` (or `consult dev`) running on task queue {queue}?"
    for command in (
        ("status", cid),
        ("status", cid, "--json"),
        ("round", "status", cid),
        ("round", "export", cid),
        ("round", "close", cid, "--reason", "Early", "--by", CL_OPERATOR),
        ("dossier", cid),
    ):
        _said(await consult(*command), unanswered)
    # A decision on the current draft reads nothing first: it is an action, sent twice, then said.
    decided = await consult(
        "draft", "decide", cid, "--approver", "a@b.example", "--decision", "approve", "--by", CL_OPERATOR
    )
    _said(decided, "no worker answered in time: the request was sent, then sent once more with the same update id")


async def test_a_read_a_running_worker_is_too_busy_to_answer_says_so(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker is polling the queue but does not answer (here: it took the consultation's workflow task
    and sits on it, as one swamped with work does): the read says the worker is busy, not missing."""
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    cid, queue = declaration.id, f"busy-{declaration.id}"
    await operations.start(dev_env.client, declaration, queue)
    taken = await dev_env.client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace=dev_env.client.namespace, task_queue=TaskQueue(name=queue), identity="a busy worker"
        )
    )
    assert taken.workflow_execution.workflow_id == f"consultation-{cid}"
    monkeypatch.setattr(operations, "QUERY_TIMEOUT", timedelta(seconds=1))
    consult = Consult(dev_env.client, queue)
    busy = f"no worker answered within 1 s, though one asked task queue {queue} for work within the last minute"
    for command in (("status", cid), ("round", "status", cid)):
        _said(await consult(*command), busy)

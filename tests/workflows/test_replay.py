"""Running consultations last months: today's code must replay the histories recorded by earlier code.

The histories in tests/histories/ are whole lifecycles recorded by
scripts/record_histories.py, each folder by the code of its time (notices-beside/:
since notices are delivered beside the lifecycle, with one notice's delivery;
issue-11/: since issue 11's patch quiet-history, with a delivery of minutes; issue-13/: with
files attached to inputs, minutes and drafts; issue-11-notices/: since deliveries send in one
activity and the consultation sends its own notices; issue-11-round-notices/: since a round sends its
own notices too).
A change that would break a running workflow fails here with a non-determinism
error; guard it with `workflow.patched`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from schemas.consultation import SubmitDraftRequest
from schemas.rounds import ReissueMinutesRequest, SubmitInputRequest
from workers.main import WORKFLOWS
from workers.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").rglob("*.json"))


# Each folder's lifecycle: the consultation, its round, and the delivery of a notice (where there is one).
LIFECYCLE = {"consultation-replay-concluded", "consultation-replay-concluded-round-1"}
MINUTES_DELIVERY = "consultation-replay-concluded-round-1-notice-002-approval_request"
FOLDERS = {
    # notices-beside/: recorded since notices are delivered by NoticeDelivery (patch notices-beside-lifecycle)
    "notices-beside": LIFECYCLE | {"consultation-replay-concluded-notice-001-opened"},
    # issue-11/: since the quieter history of issue 11 (patch quiet-history), with a delivery of minutes
    "issue-11": LIFECYCLE | {MINUTES_DELIVERY},
    # issue-11-notices/: since a delivery sends in one activity (patch one-activity-per-run) and the
    # consultation sends its own notices (patch notices-in-the-workflow)
    "issue-11-notices": LIFECYCLE | {MINUTES_DELIVERY},
    # issue-11-round-notices/: since a round sends its own notices too (patch round-notices-in-the-workflow)
    "issue-11-round-notices": LIFECYCLE,
    # issue-13/: with files (inputs' attachments, a resubmission keeping one, minutes' and drafts' annexes)
    "issue-13": LIFECYCLE | {MINUTES_DELIVERY},
}


def test_there_are_histories_to_replay() -> None:
    names = {p.stem for p in HISTORIES}
    assert names >= LIFECYCLE
    assert {"consultation-replay-lifecycle", "consultation-replay-lifecycle-round-1"} <= names  # withdrawn/
    for folder, required in FOLDERS.items():
        assert required <= {p.stem for p in HISTORIES if p.parent.name == folder}, folder


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: str(p.relative_to(p.parents[1])))
async def test_history_replays_with_todays_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # the file is named by workflow id
    result = await Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    ).replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_the_issue_13_histories_hold_files_by_reference() -> None:
    """The files' path through the workflows is what issue-13/ replays: attachments, a kept file, annexes."""
    folder = next(p.parent for p in HISTORIES if p.parent.name == "issue-13")
    requests: dict[str, list[Any]] = {"submit_input": [], "reissue_minutes": [], "submit_draft": []}
    types: dict[str, type[Any]] = {
        "submit_input": SubmitInputRequest,
        "reissue_minutes": ReissueMinutesRequest,
        "submit_draft": SubmitDraftRequest,
    }
    for name in ("consultation-replay-concluded", "consultation-replay-concluded-round-1"):
        history = WorkflowHistory.from_json(name, (folder / f"{name}.json").read_text())
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
                if accepted.input.name in types:
                    [request] = await pydantic_data_converter.decode(
                        list(accepted.input.args.payloads), [types[accepted.input.name]]
                    )
                    requests[accepted.input.name].append(request)
    assert all(r.input.attachments for r in requests["submit_input"])
    assert any(r.keep for r in requests["submit_input"])
    assert all(r.annexes for r in requests["reissue_minutes"] + requests["submit_draft"])


def test_the_issue_11_notices_histories_send_in_one_activity() -> None:
    """What issue-11-notices/ replays: the consultation's own send_messages activities, and a delivery's one."""
    folder = next(p.parent for p in HISTORIES if p.parent.name == "issue-11-notices")

    def activities(name: str) -> list[str]:
        history = WorkflowHistory.from_json(name, (folder / f"{name}.json").read_text())
        return [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]

    assert "send_messages" in activities("consultation-replay-concluded")
    assert activities("consultation-replay-concluded-round-1-notice-002-approval_request") == ["send_messages"]


def test_the_issue_11_round_notices_histories_send_a_rounds_notices_from_its_own_activities() -> None:
    """What issue-11-round-notices/ replays: a round that schedules send_messages itself and starts no child."""
    folder = next(p.parent for p in HISTORIES if p.parent.name == "issue-11-round-notices")
    history = WorkflowHistory.from_json(
        "consultation-replay-concluded-round-1",
        (folder / "consultation-replay-concluded-round-1.json").read_text(),
    )
    kinds = [e.event_type for e in history.events]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled.count("send_messages") >= 3  # input requests, approval requests, approved minutes
    assert EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED not in kinds

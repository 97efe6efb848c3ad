"""Running consultations last months: today's code must replay the histories recorded by earlier code.

The histories in tests/histories/ are whole lifecycles recorded by
scripts/record_histories.py, each folder by the code of its time (notices-beside/:
since notices are delivered beside the lifecycle, with one notice's delivery;
quiet-history/: since issue 11's patches upsert-when-changed, progress-when-significant
and documents-by-reference, with a delivery of minutes).
A change that would break a running workflow fails here with a non-determinism
error; guard it with `workflow.patched`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.main import WORKFLOWS
from workers.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").rglob("*.json"))


def test_there_are_histories_to_replay() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"consultation-replay-concluded", "consultation-replay-concluded-round-1"} <= names
    assert {"consultation-replay-lifecycle", "consultation-replay-lifecycle-round-1"} <= names  # withdrawn/
    # notices-beside/: recorded since notices are delivered by NoticeDelivery (patch notices-beside-lifecycle)
    beside = {p.stem for p in HISTORIES if p.parent.name == "notices-beside"}
    assert {
        "consultation-replay-concluded",
        "consultation-replay-concluded-round-1",
        "consultation-replay-concluded-notice-001-opened",
    } <= beside
    # quiet-history/: since upserts only on change, progress only when significant, documents by reference
    quiet = {p.stem for p in HISTORIES if p.parent.name == "quiet-history"}
    assert {
        "consultation-replay-concluded",
        "consultation-replay-concluded-round-1",
        "consultation-replay-concluded-round-1-notice-002-approval_request",
    } <= quiet
    # documents-from-issuer/: since notices name their document's version in the issuing workflow
    issuer = {p.stem for p in HISTORIES if p.parent.name == "documents-from-issuer"}
    assert {"consultation-replay-concluded", "consultation-replay-concluded-round-1"} <= issuer
    # minutes-text-once/: since a round's result names its minutes without their text
    once = {p.stem for p in HISTORIES if p.parent.name == "minutes-text-once"}
    assert {"consultation-replay-concluded", "consultation-replay-concluded-round-1"} <= once


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: str(p.relative_to(p.parents[1])))
async def test_history_replays_with_todays_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # the file is named by workflow id
    result = await Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    ).replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None

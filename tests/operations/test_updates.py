"""Operator actions against a real dev server: sent straight to the workflow, with an update id from the
request, so the same action sent twice is recorded once; one no worker answers is sent once more with the
same id, then said in words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from temporalio.service import _BridgeServiceClient
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from infra.settings import SmtpSettings
from operations import consultations as operations
from operations.update_ids import update_id
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import ExtendDeadlineRequest, OpenRoundRequest
from schemas.declaration import Pillar
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import SubmitInputRequest
from tests.helpers import (
    AGENDA,
    CL_LEAD,
    CL_OPERATOR,
    DAY,
    Round,
    close_round_with_approval,
    eventually,
    make_declaration,
    round_closed,
    round_exists,
    running_worker,
    submission,
    two_approver_declaration,
)
from workers.main import build_worker
from workflows.consultation import Consultation


@dataclass
class Requests:
    """The RPCs this process sent to Temporal, by name, and the ids of the updates among them."""

    names: Counter[str] = field(default_factory=Counter)
    update_ids: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.names.clear()
        self.update_ids.clear()


@contextmanager
def requests_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Requests]:
    """Counts every RPC of every client in this process (the worker polls through its own core, not here)."""
    sent = Requests()
    call = _BridgeServiceClient._rpc_call

    async def counted(self: _BridgeServiceClient, rpc: str, req: Any, *args: Any, **kwargs: Any) -> Any:
        sent.names[rpc] += 1
        if rpc == "update_workflow_execution":
            sent.update_ids.append(req.request.meta.update_id)
        return await call(self, rpc, req, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(_BridgeServiceClient, "_rpc_call", counted)
        yield sent


async def test_an_input_sent_twice_is_recorded_once_changed_back_is_recorded_and_updates_are_one_or_two_requests(
    dev_env: WorkflowEnvironment, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = dev_env.client
    declaration = make_declaration(await dev_env.get_current_time())
    signed = declaration.signed_at
    cid = declaration.id
    opening = OpenRoundRequest(
        meeting_at=signed + 10 * DAY, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR
    )
    request = submission("CL", Pillar.SUPPLY_CHAIN, CL_LEAD)
    async with running_worker(client, outbox) as task_queue:
        await operations.start(client, declaration, task_queue)
        with requests_sent(monkeypatch) as sent:
            await operations.open_round(client, cid, opening)
            opened = dict(sent.names)

            async def submitted() -> SubmissionRecord | None:
                try:
                    return await operations.submit_input(client, cid, request)
                except operations.OperationError as error:  # its workflow starts a moment after the round opens
                    assert "round 1 is opening" in str(error)
                    return None

            first = await eventually(submitted)
            sent.clear()
            with pytest.raises(operations.OperationError) as again:
                await operations.submit_input(client, cid, request)
            resubmitted = dict(sent.names)
            ids = list(sent.update_ids)
        revised = await operations.submit_input(client, cid, submission("CL", Pillar.SUPPLY_CHAIN, CL_LEAD, "Revised"))
        back = await operations.submit_input(client, cid, request)
        current = await operations.round_status(client, cid)
        consultation = await operations.status(client, cid)

    # A consultation update is the update alone; a round update one describe (which round is open) and the update.
    assert opened == {"update_workflow_execution": 1}
    assert resubmitted == {"describe_workflow_execution": 1, "update_workflow_execution": 1}
    # An id of its own (the request's digest and a random part), kept for the call's retry.
    (id,) = ids
    assert id.startswith(f"{update_id('submit_input', request)}-")
    # Sent twice, recorded once: the workflow says the same input is already the current one.
    assert first.revision == 1
    assert "the input of CL/supply_chain is already this one (revision 1)" in str(again.value)
    # The same text once another revision is current is a change back: recorded, not the first answer again.
    assert (revised.revision, back.revision) == (2, 3) and back.input == first.input
    assert [s.revision for s in current.submissions] == [1, 2, 3]
    assert len(consultation.rounds) == 1


async def test_the_next_round_asked_for_in_the_same_words_is_opened_and_never_two_at_once(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    """Opening a round names no round: the same request after round 1 closed (the same meeting, say) opens
    round 2, not round 1's answer again; the same request while round 1 is open is refused."""
    client = dev_env.client
    declaration = two_approver_declaration(await dev_env.get_current_time())
    cid, signed = declaration.id, declaration.signed_at
    opening = OpenRoundRequest(
        meeting_at=signed + 10 * DAY, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR
    )
    async with running_worker(client, outbox) as task_queue:
        handle = await operations.start(client, declaration, task_queue)
        first = await operations.open_round(client, cid, opening)
        with pytest.raises(operations.OperationError) as twice:
            await operations.open_round(client, cid, opening)
        round_ = Round(client, client.get_workflow_handle_for(Consultation.run, handle.id))
        await eventually(lambda: round_exists(round_))
        await close_round_with_approval(round_)
        await eventually(lambda: round_closed(round_.consultation))
        second = await operations.open_round(client, cid, opening)
        consultation = await operations.status(client, cid)
    assert (first.number, second.number) == (1, 2)
    assert "round 1 is still open" in str(twice.value)
    assert [r.number for r in consultation.rounds] == [1, 2]


async def test_an_update_no_worker_answers_is_sent_once_more_with_the_same_id_then_said(
    dev_env: WorkflowEnvironment, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = make_declaration(now)
    task_queue = f"no-worker-{declaration.id}"
    await operations.start(client, declaration, task_queue)
    request = ExtendDeadlineRequest(until=now + 30 * DAY, reason="Ministers' agendas", requested_by=CL_OPERATOR)
    monkeypatch.setattr(operations, "UPDATE_TIMEOUT", timedelta(seconds=1))
    with requests_sent(monkeypatch) as sent, pytest.raises(operations.OperationError) as raised:
        await operations.extend(client, declaration.id, request)

    first_id, second_id = sent.update_ids
    assert first_id == second_id and first_id.startswith(f"{update_id('extend_deadline', request)}-")
    message = str(raised.value)
    assert message.startswith("no worker answered in time")
    assert f"sent once more with the same update id ({sent.update_ids[0]})" in message
    assert "It may still be recorded when a worker picks it up" in message
    assert "Repeating the same command is safe: it is recorded at most once" in message

    # A worker comes; the operator repeats the command: the deadline is extended once. The request left
    # waiting is recorded when the worker picks it up, and the repeat is told the deadline is already that
    # (were it dropped instead, the repeat would be the one recorded).
    monkeypatch.setattr(operations, "UPDATE_TIMEOUT", timedelta(seconds=30))
    async with build_worker(client, task_queue, SmtpSettings(host=outbox.host, port=outbox.port)):
        try:
            await operations.extend(client, declaration.id, request)
        except operations.OperationError as refused:
            assert "refused: the deadline is already" in str(refused) and "nothing to extend" in str(refused)
        status = await operations.status(client, declaration.id)
    assert [e.new_deadline for e in status.extensions] == [request.until]


def test_an_update_id_is_the_request_s_digest() -> None:
    """The same request always has the same id; any other request another one."""
    request = submission("CL", Pillar.FINANCING, CL_LEAD)
    same = SubmitInputRequest.model_validate_json(request.model_dump_json())
    assert update_id("submit_input", request) == update_id("submit_input", same)
    assert update_id("submit_input", request) != update_id("decide", request)
    assert update_id("submit_input", request) != update_id(
        "submit_input", submission("CL", Pillar.FINANCING, CL_LEAD, "Another summary")
    )


def test_a_decision_on_the_current_version_has_an_id_of_its_own_each_time_it_is_sent() -> None:
    """It names no version, so the same words after a new version are a new decision: not the first's
    answer. (Within one send, the retry keeps the id; the workflow takes one decision per version.)"""
    request = DecisionRequest(approver="ana@minrel.example", decision=Decision.APPROVE, recorded_by=CL_OPERATOR)
    first, second = update_id("decide", request, fresh=True), update_id("decide", request, fresh=True)
    assert first != second
    digest = update_id("decide", request)
    assert first.startswith(f"{digest}-") and second.startswith(f"{digest}-")

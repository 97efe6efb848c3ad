"""A lifecycle's history holds what happened, once: what issue 11 measured as bloat stays out.

On the time-skipping server with the real worker and real SMTP, one round from opening to approved
minutes, then the histories are read back event by event:
- no search-attribute upsert on the consultation repeats the values it already had;
- the round tells its consultation of its changes of state, not of every input and decision, and the
  consultation still ends up with the round's final grid;
- a notice with a document names it (the round and the version) instead of carrying it: neither the
  delivery's input nor its messages hold the text, and every recipient's email still has the
  minutes in their language (read back from the round's history);
- a closed round's result (copied into the consultation's history) names its minutes without their
  text, and the operator reads each version's text back from the round's history, with no worker.
"""

from __future__ import annotations

import json
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import consultations as operations
from schemas import search_attributes as sa
from schemas.approvals import Decision
from schemas.declaration import Locale
from schemas.documents import document_sha256
from schemas.notices import BatchRequest
from schemas.rounds import ReissueMinutesRequest, RoundState, RoundStatus
from tests.helpers import (
    APPROVERS,
    CL_APPROVER,
    CL_OPERATOR,
    body,
    close_round_with_approval,
    eventually,
    open_round,
    received,
    round_closed,
    running_worker,
    submit_all,
    two_approver_declaration,
)
from workflows.technical_round import TechnicalRound


def events_of(history: WorkflowHistory, kind: EventType.ValueType) -> list[Any]:
    return [e for e in history.events if e.event_type == kind]


def attribute_values(upsert: Any) -> dict[str, Any]:
    fields = upsert.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    return {name: json.loads(payload.data or b"null") for name, payload in fields.items()}


async def decoded(payload: Payload, as_type: type[Any]) -> Any:
    [value] = await pydantic_data_converter.decode([payload], [as_type])
    return value


async def history_of(client: Client, workflow_id: str) -> WorkflowHistory:
    return await client.get_workflow_handle(workflow_id).fetch_history()


async def test_a_round_writes_no_repeated_upserts_no_per_input_signals_and_no_document_per_message(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = time_env.client
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await close_round_with_approval(round_)
        status = await eventually(lambda: round_closed(round_.consultation))
        final = await round_.handle.result()
        notice = next(n for n in final.notices if n.kind == "approval_request")
        approval_mail = await received(outbox, declaration.id, "approval_request", len(notice.recipients))

    consultation = await history_of(client, round_.consultation.id)
    upserts = [
        attribute_values(e) for e in events_of(consultation, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
    ]
    started = consultation.events[0].workflow_execution_started_event_attributes.search_attributes.indexed_fields
    current = {name: json.loads(p.data or b"null") for name, p in started.items()}
    assert upserts, "the consultation's stage changed: it must have been upserted"
    for values in upserts:
        changed = {k: v for k, v in values.items() if current.get(k) != v}
        assert changed, f"an upsert that changes nothing: {values}"
        current.update(values)
    assert current[sa.STAGE.name] == "technical_rounds"

    # 4 inputs and 3 decisions, but only the round's changes of state and minutes reach the consultation.
    round_history = await history_of(client, round_.handle.id)
    signals = events_of(round_history, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
    assert 1 <= len(signals) <= 4, f"{len(signals)} progress signals for 4 inputs and 3 decisions"
    record = status.rounds[0]
    assert record.state is RoundState.CLOSED
    assert record.grid == final.grid and all(all(row.values()) for row in record.grid.values())

    # The approval request names the minutes (the round, the version): neither the activity the round sends it
    # with (one for everyone: send_messages, patch round-notices-in-the-workflow) nor any of its messages
    # carries their text, which is in the round's history where they were written.
    minutes = (await operations.round_of(client, round_.handle.id, 1)).minutes[-1]
    assert notice.delivery_workflow_id is None and notice.activity_workflow_id == round_.handle.id
    [scheduled] = [
        e
        for e in events_of(round_history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        if e.activity_task_scheduled_event_attributes.activity_id == notice.activity_id
    ]
    assert scheduled.activity_task_scheduled_event_attributes.activity_type.name == "send_messages"
    request = await decoded(scheduled.activity_task_scheduled_event_attributes.input.payloads[0], BatchRequest)
    assert [r.email for r in request.notice.recipients] == notice.recipients
    source = request.notice.document_source
    assert request.notice.documents == {} and source is not None
    assert (source.workflow_id, source.version) == (round_.handle.id, minutes.version)
    # No notice of the round went through a delivery workflow of its own.
    assert not events_of(round_history, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
    for message in approval_mail:
        locale = message["Content-Language"]
        first_line = minutes.documents[locale].splitlines()[0].lstrip("# ")
        assert first_line in body(message), f"{message['To']} did not get the minutes in {locale}"


async def test_a_closed_rounds_result_names_its_minutes_and_their_text_is_read_back_from_its_history(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = time_env.client
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        await round_.decide(CL_APPROVER, Decision.REQUEST_CHANGES, comment="more detail")
        await round_.in_state(RoundState.CHANGES_REQUESTED)
        reissued = {Locale.EN: "# Minutes, version 2\n", Locale.ES: "  # Acta, versión 2  "}
        await round_.handle.execute_update(
            TechnicalRound.reissue_minutes, ReissueMinutesRequest(documents=reissued, requested_by=CL_OPERATOR)
        )
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        for approver in APPROVERS:
            await round_.decide(approver)
        result = await round_.handle.result()
        await eventually(lambda: round_closed(round_.consultation))

    # The result, and its copy in the consultation's history, name both versions without their text.
    assert [m.version for m in result.minutes] == [1, 2] and all(m.documents == {} for m in result.minutes)
    consultation = await history_of(client, round_.consultation.id)
    [copied] = [
        e.child_workflow_execution_completed_event_attributes.result.payloads[0]
        for e in events_of(consultation, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)
        if e.child_workflow_execution_completed_event_attributes.workflow_execution.workflow_id == round_.handle.id
    ]
    assert all(m.documents == {} for m in (await decoded(copied, RoundStatus)).minutes)

    # With no worker running, the operator still reads every version's text, matching its SHA-256.
    closed = await operations.round_of(client, round_.handle.id, 1)
    assert [document_sha256(m.documents) for m in closed.minutes] == [m.sha256 for m in result.minutes]
    assert closed.minutes[1].documents == {Locale.EN: "# Minutes, version 2\n", Locale.ES: "# Acta, versión 2\n"}
    assert "Acta" in closed.minutes[0].documents[Locale.ES]
    # ...and what `consult round export` writes of a closed round: its current minutes, with their text.
    number, current = await operations.current_minutes(client, declaration.id, 1)
    assert (number, current.version, current.documents) == (1, 2, closed.minutes[1].documents)

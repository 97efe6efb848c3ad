"""Where a notice's delivery stands, read from its NoticeDelivery workflow (or, for a notice its own
workflow sends, from that workflow's pending `send_messages` activity).

A consultation or round records a notice as pending and learns how its delivery
ended only when the delivery ends, and not at all if it has ended itself by then
(a withdrawal's notice). So a status read by a person is completed here: a
pending notice whose delivery has finished gets its outcome, and one still being
delivered gets the reason it is waiting (the SMTP error being retried).

Only pending notices cost a request, all of them at once: one describe of each
workflow they name (a delivery, or the workflow sending its own notices, however
many), and a finished delivery's result; a settled notice costs nothing. The delivery workflow is
named by string, so reading a status loads no workflow or activity code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from schemas.notices import DeliveryOutcome, NoticeRecord, NoticeState


async def settle(client: Client, records: list[NoticeRecord]) -> list[NoticeRecord]:
    pending = [
        i
        for i, r in enumerate(records)
        if r.state is NoticeState.PENDING and (r.delivery_workflow_id or r.activity_workflow_id)
    ]
    if not pending:
        return records
    # One describe per workflow and read, however many pending notices name it (a workflow sending several
    # of its own notices at once).
    described: dict[str, asyncio.Task[WorkflowExecutionDescription]] = {}

    def describe(workflow_id: str) -> asyncio.Task[WorkflowExecutionDescription]:
        if workflow_id not in described:
            described[workflow_id] = asyncio.ensure_future(client.get_workflow_handle(workflow_id).describe())
        return described[workflow_id]

    settled = await asyncio.gather(*(_settle(client, records[i], describe) for i in pending))
    updated = list(records)
    for i, record in zip(pending, settled, strict=True):
        updated[i] = record
    return updated


async def _settle(
    client: Client, record: NoticeRecord, describe: Callable[[str], Awaitable[WorkflowExecutionDescription]]
) -> NoticeRecord:
    if record.delivery_workflow_id is None:
        return await _sending_here(client, record, describe)
    handle = client.get_workflow_handle(record.delivery_workflow_id, result_type=DeliveryOutcome)
    try:
        description = await describe(handle.id)
        if description.status == WorkflowExecutionStatus.COMPLETED:
            outcome: DeliveryOutcome = await handle.result()
            return record.settled(outcome)
        if description.status != WorkflowExecutionStatus.RUNNING:
            return record.gave_up(f"delivery {(description.status.name if description.status else '?').lower()}")
    except WorkflowFailureError as failure:
        return record.gave_up(str(failure.cause or failure))
    except RPCError as error:
        # The status itself was read; say why this part of it is not known rather than fail it.
        return record.model_copy(update={"pending_reason": f"delivery not readable: {error.message}"})
    return await _why_pending(client, record, description.raw_description.pending_activities)


async def _sending_here(
    client: Client, record: NoticeRecord, describe: Callable[[str], Awaitable[WorkflowExecutionDescription]]
) -> NoticeRecord:
    """A notice its own workflow is sending (the workflow settles it when its activity ends): why it waits."""
    assert record.activity_workflow_id is not None  # only such records get here
    try:
        description = await describe(record.activity_workflow_id)
    except RPCError as error:
        return record.model_copy(update={"pending_reason": f"delivery not readable: {error.message}"})
    ours = [a for a in description.raw_description.pending_activities if a.activity_id == record.activity_id]
    return await _why_pending(client, record, ours)


async def _why_pending(client: Client, record: NoticeRecord, activities: Sequence[PendingActivityInfo]) -> NoticeRecord:
    for activity in activities:
        if activity.HasField("last_failure"):
            # Decoded with the client's converter: failure messages are encrypted when payloads are.
            last = await client.data_converter.decode_failure(activity.last_failure)
            return record.model_copy(update={"pending_reason": f"retrying (attempt {activity.attempt}): {last}"})
    return record.model_copy(update={"pending_reason": "sending"})

"""Where a notice's delivery stands, read from its NoticeDelivery workflow.

A consultation or round records a notice as pending and learns how its delivery
ended only when the delivery ends, and not at all if it has ended itself by then
(a withdrawal's notice). So a status read by a person is completed here: a
pending notice whose delivery has finished gets its outcome, and one still being
delivered gets the reason it is waiting (the SMTP error being retried).
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from schemas.notices import NoticeRecord, NoticeState
from workflows.delivery import NoticeDelivery


async def settle(client: Client, records: list[NoticeRecord]) -> list[NoticeRecord]:
    return [await _settle(client, r) if r.state is NoticeState.PENDING else r for r in records]


async def _settle(client: Client, record: NoticeRecord) -> NoticeRecord:
    if record.delivery_workflow_id is None:
        return record
    handle = client.get_workflow_handle_for(NoticeDelivery.run, record.delivery_workflow_id)
    try:
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return record.settled(await handle.result())
        if description.status != WorkflowExecutionStatus.RUNNING:
            return record.gave_up(f"delivery {(description.status.name if description.status else '?').lower()}")
    except WorkflowFailureError as failure:
        return record.gave_up(str(failure.cause or failure))
    except RPCError as error:
        # The status itself was read; say why this part of it is not known rather than fail it.
        return record.model_copy(update={"pending_reason": f"delivery not readable: {error.message}"})
    for activity in description.raw_description.pending_activities:
        if activity.HasField("last_failure"):
            # Decoded with the client's converter: failure messages are encrypted when payloads are.
            last = await client.data_converter.decode_failure(activity.last_failure)
            return record.model_copy(update={"pending_reason": f"retrying (attempt {activity.attempt}): {last}"})
    return record.model_copy(update={"pending_reason": "sending"})

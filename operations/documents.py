"""The text of each minutes version, read from the round's history where it was written.

A round's result names its minutes versions without their text (patch `minutes-text-once`:
the result is also copied into the consultation's history). The text was recorded once,
when the version was made: the `render_minutes` activity's result, or the request of a
`reissue_minutes` update. This reads those events back, no worker needed, and matches
each text to its version by the SHA-256 the workflow computed the same way.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from schemas.declaration import Locale
from schemas.documents import DocumentVersion, as_issued, document_sha256
from schemas.rounds import ReissueMinutesRequest, RoundStatus

RENDER_MINUTES = "render_minutes"
REISSUE_MINUTES = "reissue_minutes"


async def minutes_texts(client: Client, workflow_id: str) -> dict[str, dict[Locale, str]]:
    """Every minutes text the round's history holds, by SHA-256."""
    convert = client.data_converter
    rendering: set[int] = set()  # the scheduled-event ids of the minutes activity
    texts: dict[str, dict[Locale, str]] = {}
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == RENDER_MINUTES:
                rendering.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in rendering:
                [documents] = await convert.decode(list(done.result.payloads), [dict[Locale, str]])
                texts[document_sha256(documents)] = documents
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if accepted.input.name == REISSUE_MINUTES:
                [request] = await convert.decode(list(accepted.input.args.payloads), [ReissueMinutesRequest])
                documents = as_issued(request.documents)
                texts[document_sha256(documents)] = documents
    return texts


async def with_minutes_texts(client: Client, status: RoundStatus) -> RoundStatus:
    """The round's status with the text of every minutes version (read from its history when the result lacks it)."""
    if all(m.documents for m in status.minutes):
        return status
    texts = await minutes_texts(client, status.workflow_id)
    minutes: list[DocumentVersion] = [
        m if m.documents else m.model_copy(update={"documents": texts.get(m.sha256, {})}) for m in status.minutes
    ]
    return status.model_copy(update={"minutes": minutes})

"""Document texts read back from a workflow's history, where they were recorded once.

A notice names its document (`schemas.notices.DocumentSource`: the issuing workflow and the
SHA-256 of the version) and a round's result names its minutes without their text, so the text
is in history once, where the version was made: the `render_minutes` activity's result, the
request of a `reissue_minutes` update (a round), the request of a `submit_draft` update (a
consultation). This reads those events back and keys each text by the SHA-256 the workflow
computed the same way (the text's, and a version with annexes also by its own, which covers them).
No worker is needed, and a closed workflow reads like a running one.
Used by the mail activity (the text of a notice) and by operations (a closed round's minutes).
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from schemas.annexes import FileRecord
from schemas.consultation import SubmitDraftRequest
from schemas.declaration import Locale
from schemas.documents import as_issued, document_sha256
from schemas.rounds import ReissueMinutesRequest

RENDER_MINUTES = "render_minutes"
# Updates whose request carries a document as an operator issued it.
ISSUING_UPDATES: dict[str, type[ReissueMinutesRequest | SubmitDraftRequest]] = {
    "reissue_minutes": ReissueMinutesRequest,
    "submit_draft": SubmitDraftRequest,
}

Texts = dict[str, dict[Locale, str]]


async def document_texts(client: Client, workflow_id: str) -> Texts:
    """Every document text the workflow's history holds, by SHA-256."""
    convert = client.data_converter
    rendering: set[int] = set()  # the scheduled-event ids of the minutes activity
    texts: Texts = {}

    def keep(documents: dict[Locale, str], annexes: list[FileRecord] | None = None) -> None:
        # Keyed by the fingerprint of the text alone (how a notice names its document), and by the version's,
        # which covers its annexes too when it has any (how a status names it): the same text either way.
        texts[document_sha256(documents)] = documents
        if annexes:
            texts[document_sha256(documents, annexes)] = documents

    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == RENDER_MINUTES:
                rendering.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in rendering:
                [documents] = await convert.decode(list(done.result.payloads), [dict[Locale, str]])
                keep(documents)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
            request_type = ISSUING_UPDATES.get(accepted.input.name)
            if request_type is not None:
                [request] = await convert.decode(list(accepted.input.args.payloads), [request_type])
                assert isinstance(request, request_type)
                keep(as_issued(request.documents), request.annexes)
    return texts

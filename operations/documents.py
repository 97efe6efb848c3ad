"""A closed round's minutes with their text (its result names them without it: patch `minutes-text-once`)."""

from __future__ import annotations

from temporalio.client import Client

from infra.recorded import document_texts
from schemas.documents import DocumentVersion
from schemas.rounds import RoundStatus


async def with_minutes_texts(client: Client, status: RoundStatus) -> RoundStatus:
    """The round's status with the text of every minutes version (read from its history when the result lacks it)."""
    if all(m.documents for m in status.minutes):
        return status
    texts = await document_texts(client, status.workflow_id)
    minutes: list[DocumentVersion] = [
        m if m.documents else m.model_copy(update={"documents": texts.get(m.sha256, {})}) for m in status.minutes
    ]
    return status.model_copy(update={"minutes": minutes})

"""Update ids, so an update sent again is recorded once.

Temporal deduplicates updates by id on a workflow run: the same id sent again (a retry after a
timeout, a form posted twice) returns the first answer instead of recording a second time. The id
starts with the update's name and a digest of the request's canonical JSON, so two different
requests never share one.

An email link's updates (`operations.links`) are scoped by what the link and its form say (the
version decided on, the revision the form was opened on): the same form posted twice shares an id.
An operator's (`operations.consultations`) get an id of their own per call as well (`fresh=True`),
kept for the call's retry: what an operator asks names no version or round ("the current minutes",
"the next round"), and the same words later can mean something new, which a shared id would have
answered with the earlier result. The workflow itself refuses what would repeat.
"""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel


def update_id(update_name: str, request: BaseModel, *, fresh: bool = False) -> str:
    digest = hashlib.sha256(request.model_dump_json(round_trip=True).encode()).hexdigest()[:32]
    return f"{update_name}-{digest}-{secrets.token_hex(8)}" if fresh else f"{update_name}-{digest}"

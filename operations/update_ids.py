"""Update ids derived from the request, so a retried action is applied once.

Temporal deduplicates updates by id on a workflow run: sending the same request
again with the same id (a CLI retry after a timeout, a form posted twice) returns
the first answer instead of recording a second time. The id is a digest of what
is asked (the update's name and the request's canonical JSON), so two different
requests never share an id and the same request always does.

A request that can mean something else each time it is sent gets an id of its own per call instead
(`fresh=True`), still retried with that same id: a decision an operator records on "the current
version" names none, and the same words a second time, after a new version, are a new decision;
opening "the next round" with the same meeting as the last one opens another round. Sent twice,
such a request is still recorded once: the workflow takes one decision per approver and version,
and opens one round at a time.
"""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel


def update_id(update_name: str, request: BaseModel, *, fresh: bool = False) -> str:
    digest = hashlib.sha256(request.model_dump_json(round_trip=True).encode()).hexdigest()[:32]
    return f"{update_name}-{digest}-{secrets.token_hex(8)}" if fresh else f"{update_name}-{digest}"

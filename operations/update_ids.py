"""Update ids derived from the request, so a retried action is applied once.

Temporal deduplicates updates by id on a workflow run: sending the same request
again with the same id (a CLI retry after a timeout, a form posted twice) returns
the first answer instead of recording a second time. The id is a digest of what
is asked (the update's name and the request's canonical JSON), so two different
requests never share an id and the same request always does.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


def update_id(update_name: str, request: BaseModel) -> str:
    digest = hashlib.sha256(request.model_dump_json(round_trip=True).encode()).hexdigest()[:32]
    return f"{update_name}-{digest}"

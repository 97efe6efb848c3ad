"""The record of a consultation (dossier): everything decided, by whom, when, through which channel, with hashes.

Built only from what Temporal holds — the consultation's input (its declaration,
from the first event of its history) and the status of the consultation and of
each round (queried while running, their results once finished) — never from a
separate database. The record's own SHA-256 is computed over its canonical JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from temporalio.client import Client

from activities.documents import markdown_to_html
from infra.i18n import Words
from operations import consultations as operations
from schemas.declaration import Locale

_templates = Environment(
    loader=PackageLoader("operations", "templates"),
    autoescape=select_autoescape(default=True),
    keep_trailing_newline=True,
)


async def build(client: Client, consultation_id: str) -> dict[str, Any]:
    status = await operations.status(client, consultation_id)
    # The declaration from the first event of the history (not the whole history), the rounds together.
    declaration, rounds = await asyncio.gather(
        operations.declaration(client, consultation_id),
        asyncio.gather(*(operations.round_of(client, r.workflow_id, r.number) for r in status.rounds)),
    )
    record: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "declaration": declaration.model_dump(mode="json"),
        "consultation": status.model_dump(mode="json"),
        "rounds": [r.model_dump(mode="json") for r in rounds],
    }
    record["sha256"] = record_sha256(record)
    return record


def record_sha256(record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON (keys sorted, UTF-8), its own `sha256` field left out."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def render_html(record: dict[str, Any], locale: Locale = Locale.EN) -> str:
    """The record for an operator to read, in their language (the record's data stays as recorded)."""

    def markdown(text: str) -> Markup:
        return Markup(markdown_to_html(text))

    words = Words(locale)
    return _templates.get_template("dossier.html.j2").render(
        r=record, markdown=markdown, locale=locale.value, _=words.gettext, ngettext=words.ngettext, colon=words.colon
    )

"""Documents that parties approve (round minutes, agreement drafts) and their fingerprints."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.declaration import Locale

# Markdown larger than this does not travel through workflow history.
MAX_DOCUMENT_BYTES = 256 * 1024


def document_sha256(documents: dict[Locale, str]) -> str:
    """SHA-256 of a document in all its languages: canonical JSON, keys sorted, UTF-8.

    One fingerprint for the version whatever language each approver read it in,
    and deterministic, so the workflow can compute it itself.
    """
    canonical = json.dumps({str(k): v for k, v in documents.items()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def as_issued(documents: dict[Locale, str]) -> dict[Locale, str]:
    """A document as an operator issues it: each language's text trimmed, ending in one newline."""
    return {locale: text.strip() + "\n" for locale, text in documents.items()}


class DocumentVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    sha256: str
    documents: dict[Locale, str]
    issued_by: str
    issued_at: datetime

    def text_for(self, locale: Locale) -> str:
        return self.documents.get(locale) or next(iter(self.documents.values()))


def next_version(
    versions: list[DocumentVersion], documents: dict[Locale, str], issued_by: str, at: datetime
) -> DocumentVersion:
    """The version that follows `versions`, with its fingerprint."""
    return DocumentVersion(
        version=len(versions) + 1,
        sha256=document_sha256(documents),
        documents=documents,
        issued_by=issued_by,
        issued_at=at,
    )

"""Documents that parties approve (round minutes, agreement drafts) and their fingerprints."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import ConfigDict, Field

from schemas.annexes import FileRecord, annexes_line
from schemas.base import Model
from schemas.declaration import Locale

# Markdown larger than this does not travel through workflow history.
MAX_DOCUMENT_BYTES = 256 * 1024


def document_sha256(documents: dict[Locale, str], annexes: list[FileRecord] | None = None) -> str:
    """SHA-256 of a document in all its languages and its annexes: canonical JSON, keys sorted, UTF-8.

    One fingerprint for the version whatever language each approver read it in,
    and deterministic, so the workflow can compute it itself. With annexes, their
    names and SHA-256s are in it too, so an annex cannot change under an approval;
    without, it is the fingerprint versions had before annexes existed.
    """
    content: dict[str, str] = {str(k): v for k, v in documents.items()}
    if annexes:
        content = {
            "documents": json.dumps(content, sort_keys=True, ensure_ascii=False),
            "annexes": annexes_line(annexes),
        }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def as_issued(documents: dict[Locale, str]) -> dict[Locale, str]:
    """A document as an operator issues it: each language's text trimmed, ending in one newline."""
    return {locale: text.strip() + "\n" for locale, text in documents.items()}


class DocumentVersion(Model):
    model_config = ConfigDict(frozen=True)

    version: int
    sha256: str
    documents: dict[Locale, str]
    issued_by: str
    issued_at: datetime
    annexes: list[FileRecord] = Field(default_factory=list)

    def text_for(self, locale: Locale) -> str:
        return self.documents.get(locale) or next(iter(self.documents.values()))


def next_version(
    versions: list[DocumentVersion],
    documents: dict[Locale, str],
    issued_by: str,
    at: datetime,
    annexes: list[FileRecord] | None = None,
) -> DocumentVersion:
    """The version that follows `versions`, with its fingerprint (over its annexes too)."""
    return DocumentVersion(
        version=len(versions) + 1,
        sha256=document_sha256(documents, annexes),
        documents=documents,
        issued_by=issued_by,
        issued_at=at,
        annexes=list(annexes or []),
    )

"""The one query that hands out a document version's text: `document_version(version)`.

Notices name the document they carry by reference (`schemas.notices.DocumentSource`:
the issuing workflow and the version) instead of copying its text into every notice
and delivery; the mail activity reads it through this query, once per version per
worker. A round answers with its minutes, the consultation with its agreement drafts.
A query writes no history, and a closed workflow still answers (a worker replays it).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from schemas.documents import DOCUMENT_VERSION_QUERY, DocumentVersion


def _version(versions: list[DocumentVersion], version: int, what: str) -> DocumentVersion:
    if not 1 <= version <= len(versions):
        raise ApplicationError(f"there is no version {version} of the {what} (versions 1 to {len(versions)})")
    return versions[version - 1]


class MinutesVersions:
    _minutes: list[DocumentVersion]

    @workflow.query(name=DOCUMENT_VERSION_QUERY)
    def document_version(self, version: int) -> DocumentVersion:
        return _version(self._minutes, version, "minutes")


class DraftVersions:
    _drafts: list[DocumentVersion]

    @workflow.query(name=DOCUMENT_VERSION_QUERY)
    def document_version(self, version: int) -> DocumentVersion:
        return _version(self._drafts, version, "agreement draft")

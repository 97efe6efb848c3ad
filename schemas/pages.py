"""What the page behind an email link needs, asked of its workflow in one small query (`link_page`).

The gateway names the link (recipient, purpose, version, the pillar of an input form) and the
workflow answers with only what that page shows: who reads it, and either the approval of one
document version (with that document in the reader's language only) or the reader's party's inputs.
Never the whole status, never the declaration, never a document in every language.

Files have two small queries of their own: `file_page` (the gateway, for one file link: is this file
there, for this reader) and `document_files` (the mail activity, for the files a notice lists).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from schemas.annexes import FileRecord
from schemas.approvals import Decision, DecisionRecord, Delegation, Outcome
from schemas.base import Model
from schemas.declaration import Locale, Pillar, Role
from schemas.links import FileLocation, LinkPurpose
from schemas.pillar_inputs import PillarInput


class _Model(Model):
    model_config = ConfigDict(frozen=True)


class LinkPageRequest(_Model):
    """The link a page is for: whose it is, what it is for, and (approval links) its document version."""

    recipient: str
    purpose: LinkPurpose
    version: int | None = None
    # An input form: the pillar whose current input, if the party has one, fills the form.
    pillar: Pillar | None = None


class PageReader(_Model):
    """The link's recipient as the declaration names them: what every page addresses them by."""

    email: str
    name: str
    locale: Locale
    party: str  # its code
    party_name: str
    roles: list[Role]


class Colleague(_Model):
    name: str
    email: str


class PageDocument(_Model):
    """One version of a document, in one language: the reader's, or the one it was written in if not."""

    version: int
    sha256: str
    locale: Locale
    text: str
    # The version's annexes: its SHA-256 covers them, so a decision covers them too.
    annexes: list[FileRecord] = Field(default_factory=list)


class InputFiles(_Model):
    """The files one party attached to its current input on one pillar."""

    party: str
    party_name: str
    pillar: Pillar
    revision: int
    files: list[FileRecord]

    @property
    def where(self) -> FileLocation:
        return FileLocation(party=self.party, pillar=self.pillar, revision=self.revision)


class ApprovalPage(_Model):
    """The approval a link is about, as its reader sees it."""

    round_number: int | None  # None: the agreement draft
    open: bool  # the owner is awaiting decisions now
    state: str  # the round's state or the consultation's stage, for the words of a closed page
    allowed: list[Decision]
    # The version awaiting decisions (or last decided), None before any was put to approval.
    version: int | None = None
    sha256: str | None = None
    deadline: datetime | None = None
    outcome: Outcome | None = None
    # The decision already taken on the link's version, by the reader or the approver they act for.
    earlier: DecisionRecord | None = None
    # The reader decides on this approver's behalf (a delegation on the current version).
    delegated_by: Delegation | None = None
    # Whom the reader may still forward their decision to (empty when they may not).
    colleagues: list[Colleague] = Field(default_factory=list)
    # The link's version in the reader's language: only while it awaits this reader's decision.
    document: PageDocument | None = None
    # Minutes: the files of the inputs they record, with the document (empty for a draft).
    input_files: list[InputFiles] = Field(default_factory=list)


class PillarRevision(_Model):
    revision: int
    submitted_at: datetime


class InputPage(_Model):
    """A round's inputs as the reader's party sees them."""

    round_number: int
    collecting: bool  # inputs are still accepted
    pillars: list[Pillar]
    inputs_due: datetime
    # The party's current revision of each pillar it has submitted.
    submitted: dict[Pillar, PillarRevision] = Field(default_factory=dict)
    # The party's current input on the requested pillar, to fill its form with.
    current: PillarInput | None = None


class LinkPage(_Model):
    """The answer to `link_page`: one page's worth, a few kilobytes at most besides its document."""

    title: str
    utc_offset_minutes: int  # the consultation's zone, every date of the page is shown in it
    operators: list[str]
    reader: PageReader | None  # None: the recipient is no longer in the declaration
    approval: ApprovalPage | None = None  # approval links
    inputs: InputPage | None = None  # input links


# The name `document_files` is answered under: the mail activity, below the workflows, asks by name.
DOCUMENT_FILES_QUERY = "document_files"


class FileRequest(_Model):
    """A file link: its reader, the file's SHA-256 and where the link says it is."""

    recipient: str
    sha256: str
    where: FileLocation


class FilePage(_Model):
    """The answer to `file_page`: the file, if it is where the link says and the reader may have it."""

    title: str
    operators: list[str]
    reader: PageReader | None  # None: the recipient is no longer in the declaration
    file: FileRecord | None = None


class DocumentFilesRequest(_Model):
    version: int


class DocumentFiles(_Model):
    """What a notice about a minutes or draft version lists: its annexes, and for minutes the inputs' files."""

    version: int
    sha256: str | None = None  # None: no such version
    annexes: list[FileRecord] = Field(default_factory=list)
    inputs: list[InputFiles] = Field(default_factory=list)

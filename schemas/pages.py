"""What the page behind an email link needs, asked of its workflow in one small query (`link_page`).

The gateway names the link (recipient, purpose, version, the pillar of an input form) and the
workflow answers with only what that page shows: who reads it, and either the approval of one
document version (with that document in the reader's language only) or the reader's party's inputs.
Never the whole status, never the declaration, never a document in every language.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.approvals import Decision, DecisionRecord, Delegation, Outcome
from schemas.declaration import Locale, Pillar, Role
from schemas.links import LinkPurpose
from schemas.pillar_inputs import PillarInput


class _Model(BaseModel):
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
    colleagues: list[Colleague] = []
    # The link's version in the reader's language: only while it awaits this reader's decision.
    document: PageDocument | None = None


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
    submitted: dict[Pillar, PillarRevision] = {}
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

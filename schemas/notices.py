"""What the workflow asks the mail activity to send. Rendering happens in the activity."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.declaration import Locale, Pillar
from schemas.links import LinkSpec


class NoticeKind(StrEnum):
    OPENED = "opened"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    DEADLINE_EXTENDED = "deadline_extended"
    ROUND_SCHEDULED = "round_scheduled"
    WITHDRAWN = "withdrawn"
    INPUT_REQUEST = "input_request"
    INPUT_REMINDER = "input_reminder"
    APPROVAL_REQUEST = "approval_request"
    APPROVAL_REMINDER = "approval_reminder"
    APPROVAL_ESCALATION = "approval_escalation"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    DRAFTING_STARTED = "drafting_started"
    DELEGATED = "delegated"
    DRAFT_CHANGES_REQUESTED = "draft_changes_requested"
    CONCLUDED = "concluded"
    DECLINED = "declined"


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    locale: Locale


class NoticeFacts(BaseModel):
    """What one notice says beyond who sends it to whom: the facts the mail activity words.

    The workflow names them with keywords (typed, so a checker catches a misspelt one),
    and anything the model does not know is refused rather than silently dropped.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline: datetime | None = None
    previous_deadline: datetime | None = None
    days_left: int | None = None
    meeting_at: datetime | None = None
    inputs_due: datetime | None = None
    round_number: int | None = None
    reason: str | None = None
    actor: str | None = None
    # Rounds and approvals.
    missing: list[str] = Field(default_factory=list)
    subject: str | None = None  # what is being approved, e.g. "minutes of round 1"
    version: int | None = None
    sha256: str | None = None
    # The agenda of a round, or the pillars a party still owes; the declaration's own by default.
    pillars: list[Pillar] = Field(default_factory=list)
    # The document in each language (Markdown); each reader gets theirs.
    documents: dict[Locale, str] = Field(default_factory=dict)
    # The previous version, so the reader gets a diff against it.
    previous_documents: dict[Locale, str] = Field(default_factory=dict)
    comments: list[str] = Field(default_factory=list)
    # A page to act on; the mail activity turns it into a signed link per recipient.
    link: LinkSpec | None = None


class Notice(NoticeFacts):
    """One notice to many recipients; each recipient gets their own message in their locale.

    `notice_id` is assigned by the workflow and is stable across activity retries:
    the Message-ID of every message derives from it, so a resent message is recognisable.
    """

    notice_id: str
    kind: NoticeKind
    consultation_id: str
    title: str
    issued_at: datetime
    # Dates are shown in the declaration's own time zone, whatever the reader's.
    utc_offset_minutes: int
    recipients: list[Recipient]
    parties: list[str] = Field(default_factory=list)

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_minutes))


class DeliveryReport(BaseModel):
    delivered: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)


class NoticeRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    notice_id: str
    kind: str
    issued_at: datetime
    recipients: list[str]
    delivered: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)
    error: str | None = None

"""What the workflow asks the mail activity to send. Rendering happens in the activity."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from schemas.base import Model
from schemas.declaration import Locale, Pillar
from schemas.links import LinkSpec
from schemas.working_days import Counting


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
    MEETING_RESCHEDULED = "meeting_rescheduled"


# Notices that carry a round meeting as an invitation (or its update, or its cancellation):
# the notifier gives them the organiser and the attendees.
MEETING_KINDS = frozenset(
    {
        NoticeKind.ROUND_SCHEDULED,
        NoticeKind.INPUT_REQUEST,
        NoticeKind.MEETING_RESCHEDULED,
        NoticeKind.WITHDRAWN,
        NoticeKind.DECLINED,
    }
)


MAX_ATTENDEES_PER_MESSAGE = 100


class Recipient(Model):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    locale: Locale


class Attendee(Model):
    """Someone a round meeting invites: a counterpart, with their party and their iCalendar ROLE."""

    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    party: str
    role: str = "REQ-PARTICIPANT"  # RFC 5545 ROLE: REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR


class DocumentSource(Model):
    """Where a notice's document is: a version made in the workflow that issued the notice.

    The mail activity reads its text back from that workflow's history by SHA-256
    (infra/recorded.py), so the text is in history where the version was made, not again
    in every notice and delivery.
    """

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    version: int
    # SHA-256 of the version, and of the one a reader gets a diff against (a re-issued draft), if any.
    sha256: str | None = None
    previous_sha256: str | None = None


class NoticeFacts(Model):
    """What one notice says beyond who sends it to whom: the facts the mail activity words.

    The workflow names them with keywords (typed, so a checker catches a misspelt one),
    and anything the model does not know is refused rather than silently dropped.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline: datetime | None = None
    # How `deadline` was counted, when the declaration says so ("10 working days (CL, US holidays)").
    counting: Counting | None = None
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
    # Or, instead of both, where they are (notices issued since patch `documents-from-issuer`).
    document_source: DocumentSource | None = None
    comments: list[str] = Field(default_factory=list)
    # A page to act on; the mail activity turns it into a signed link per recipient.
    link: LinkSpec | None = None
    # The round meeting as a calendar event: its SEQUENCE (0 when first scheduled, +1 on each
    # reschedule, one more when cancelled), who organises it and who attends.
    calendar_sequence: int = 0
    meeting_cancelled: bool = False
    organizer: Recipient | None = None
    attendees: list[Attendee] = Field(default_factory=list)


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

    def without_documents(self) -> Notice:
        return self.model_copy(update={"documents": {}, "previous_documents": {}})

    def for_reader(self, recipient: Recipient) -> Notice:
        """What one reader's message needs: no recipient list, and only the documents in their language.

        The same choice `activities.email.render` makes (their language, else the first one),
        made here so a per-recipient activity does not carry every language of every document.
        """

        def theirs(documents: dict[Locale, str]) -> dict[Locale, str]:
            if not documents:
                return {}
            return {recipient.locale: documents.get(recipient.locale) or next(iter(documents.values()))}

        # A reader's invitation names their own party's counterparts (operators, in no party, get none),
        # so a notice to a thousand people does not carry a thousand attendees in every message.
        party = next((a.party for a in self.attendees if a.email == recipient.email), None)
        return self.model_copy(
            update={
                "recipients": [],
                "attendees": [a for a in self.attendees if a.party == party][:MAX_ATTENDEES_PER_MESSAGE],
                "documents": theirs(self.documents),
                "previous_documents": theirs(self.previous_documents),
            }
        )


class DeliveryReport(Model):
    """What the single `send_notice` activity returns (consultations that started before notices
    were delivered beside the lifecycle still await it)."""

    delivered: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)


class DocumentsAt(Model):
    """Where a message's documents are: the input of the delivery run that sends it.

    A message sent this way carries the notice without its documents; the mail activity reads
    them once per notice from that run's first event, so a document is in history once per
    delivery run, not once per recipient.
    """

    model_config = ConfigDict(frozen=True)  # a cache key

    workflow_id: str
    run_id: str


class MessageRequest(Model):
    """One message: a notice (as `Notice.for_reader` trims it) to one recipient."""

    notice: Notice
    recipient: Recipient
    # Set when `notice` was sent without its documents (see DocumentsAt); None: they are in `notice`.
    documents_at: DocumentsAt | None = None


class MessageOutcome(Model):
    """The SMTP server's answer to one message: accepted (`refused` is None) or refused for good, and why."""

    refused: str | None = None


class BatchRequest(Model):
    """Recipients of one notice sent by one `send_messages` activity: `notice.recipients` are theirs."""

    notice: Notice
    # Set when `notice` was sent without its documents (see DocumentsAt); None: they are where the notice says.
    documents_at: DocumentsAt | None = None


class BatchProgress(Model):
    """Where a `send_messages` activity stands, in its heartbeat details: a retry skips whoever is settled.

    `settled` holds positions in the batch's recipient list (small, whatever the addresses); the addresses
    refused for good, or whose message cannot be written, are kept with why. The same details ride on the
    activity's final failure, so the delivery knows who was reached before it gave up.
    """

    settled: list[int] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)


class DeliveryInput(Model):
    """A notice to deliver, and what earlier runs of the same delivery already settled (continue-as-new)."""

    notice: Notice
    # Recipients not delivered by then are recorded as failed rather than retried forever.
    give_up_at: datetime
    refused: dict[str, str] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)


class DeliveryOutcome(Model):
    """Who did not get the notice, and why; everyone else did. Addresses only, so it stays small."""

    refused: dict[str, str] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)


class NoticeState(StrEnum):
    PENDING = "pending"  # being delivered (or waiting for SMTP to come back)
    DELIVERED = "delivered"  # every recipient's server answered: accepted, or refused for good
    FAILED = "failed"  # some recipients could not be sent to (SMTP down for a day, a message that cannot be written)


class NoticeRecord(Model):
    model_config = ConfigDict(frozen=True)

    notice_id: str
    kind: str
    issued_at: datetime
    recipients: list[str]
    state: NoticeState
    delivered: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    # The NoticeDelivery workflow that sends it (None for notices sent by the earlier single activity).
    delivery_workflow_id: str | None = None
    # Or the `send_messages` activity of the workflow that issued it, which sends it itself (since issue 11).
    activity_id: str | None = None
    activity_workflow_id: str | None = None
    # Why a pending notice is still pending (e.g. the SMTP error being retried): filled in by the
    # client from the delivery workflow when it reads a status, never by the workflow itself.
    pending_reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _state_of_earlier_records(cls, data: Any) -> Any:
        # Records written before `state` existed were only kept once their send had ended.
        if isinstance(data, dict) and "state" not in data:
            return {**data, "state": NoticeState.FAILED if data.get("error") else NoticeState.DELIVERED}
        return data

    def settled(self, outcome: DeliveryOutcome) -> NoticeRecord:
        """The record once its delivery has ended: everyone neither refused nor failed got it."""
        left_out = outcome.refused.keys() | outcome.failed.keys()
        return self.model_copy(
            update={
                "state": NoticeState.FAILED if outcome.failed else NoticeState.DELIVERED,
                "delivered": [r for r in self.recipients if r not in left_out],
                "refused": outcome.refused,
                "failed": outcome.failed,
                "pending_reason": None,
            }
        )

    def gave_up(self, error: str) -> NoticeRecord:
        return self.model_copy(update={"state": NoticeState.FAILED, "error": error, "pending_reason": None})

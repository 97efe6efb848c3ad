"""Technical rounds: requests, records and status of the `TechnicalRound` child workflow."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field

from schemas import limits
from schemas.annexes import Files, Sha256
from schemas.approvals import ApprovalState, DecisionRecord
from schemas.base import Model
from schemas.declaration import Declaration, Email, Locale, Pillar
from schemas.documents import DocumentVersion
from schemas.notices import NoticeRecord
from schemas.pillar_inputs import Channel, PillarInput, SubmissionRecord
from schemas.working_days import WorkingCalendar

# The signal a round sends its consultation whenever its progress changes.
ROUND_PROGRESS_SIGNAL = "round_progress"

# party code -> pillar -> current revision number (0: nothing submitted yet)
Grid = dict[str, dict[Pillar, int]]


class RoundState(StrEnum):
    COLLECTING = "collecting"
    MINUTES_APPROVAL = "minutes_approval"
    CHANGES_REQUESTED = "changes_requested"
    CLOSED = "closed"


class _Model(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoundInput(_Model):
    declaration: Declaration
    number: Annotated[int, Field(ge=1)]
    meeting_at: datetime
    inputs_due: datetime
    pillars: list[Pillar]
    opened_by: str
    # The consultation's working calendar, when its declaration counts working days.
    calendar: WorkingCalendar | None = None


class SubmitInputRequest(_Model):
    input: PillarInput
    submitted_by: Email
    channel: Channel = Channel.OPERATOR
    # Files of this party's current input on this pillar to keep (by SHA-256) beside `input.attachments`;
    # the others are dropped from the new revision (they stay in the earlier one).
    keep: Annotated[list[Sha256], limits.at_most(20)] = Field(default_factory=list)


class RescheduleMeetingRequest(_Model):
    """Move a round's meeting (and, while inputs are still collected, their due date)."""

    meeting_at: limits.WrittenDate
    inputs_due: limits.WrittenDate | None = None
    reason: Annotated[str, Field(min_length=1), limits.text(limits.MAX_REASON)]
    requested_by: Email


class MeetingRescheduled(_Model):
    """One move of a round's meeting; `sequence` is the invitation's SEQUENCE it went out with."""

    meeting_at: datetime
    inputs_due: datetime
    reason: str
    by: str
    at: datetime
    sequence: int


class CloseRoundRequest(_Model):
    reason: Annotated[str, Field(min_length=1), limits.text(limits.MAX_REASON)]
    requested_by: Email


class ReissueMinutesRequest(_Model):
    """The edited minutes, in one or both languages; a reader whose language is missing gets the other."""

    documents: dict[Locale, str]
    requested_by: Email
    # The version's annexes (its fingerprint covers them).
    annexes: Files = Field(default_factory=list)


class RoundProgress(_Model):
    """What the consultation keeps of a round: enough for its status and the Temporal UI."""

    number: int
    state: RoundState
    grid: Grid
    missing: list[str]
    minutes_sha256: str | None = None
    minutes_version: int | None = None
    next_deadline: datetime | None = None
    overdue: bool = False
    # Where the meeting stands now (None in progress sent before meetings could move).
    meeting_at: datetime | None = None
    inputs_due: datetime | None = None
    meeting_sequence: int | None = None


class RoundStatus(_Model):
    number: int
    workflow_id: str
    state: RoundState
    meeting_at: datetime
    inputs_due: AwareDatetime
    pillars: list[Pillar]
    opened_by: str
    grid: Grid
    missing: list[str]
    submissions: list[SubmissionRecord]
    inputs_closed_at: datetime | None
    close_reason: str | None
    minutes: list[DocumentVersion]
    approval: ApprovalState | None
    decisions: list[DecisionRecord]
    closed_at: datetime | None
    notices: list[NoticeRecord]
    reschedules: list[MeetingRescheduled] = Field(default_factory=list)

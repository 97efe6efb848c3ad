"""State, requests and status of a consultation workflow.

One typed model per workflow input, update and result, so fields can be added
later without breaking running workflows or callers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from schemas import limits
from schemas.annexes import Files
from schemas.approvals import ApprovalState, DecisionRecord
from schemas.base import Model
from schemas.declaration import Declaration, Email, Locale, Pillar
from schemas.documents import DocumentVersion
from schemas.notices import NoticeRecord
from schemas.rounds import Grid, RoundState
from schemas.working_days import Counting, WorkingCalendar, add


class Stage(StrEnum):
    DECLARED = "declared"
    TECHNICAL_ROUNDS = "technical_rounds"
    DRAFTING_AGREEMENT = "drafting_agreement"
    AWAITING_APPROVAL = "awaiting_approval"
    CONCLUDED = "concluded"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (Stage.CONCLUDED, Stage.DECLINED, Stage.WITHDRAWN)


class _Model(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsultationInput(_Model):
    declaration: Declaration
    # The parties' common non-working days, computed when it started, when the declaration counts
    # working days; None (and in every history recorded before it) means calendar days alone.
    calendar: WorkingCalendar | None = None

    @property
    def first_round_deadline(self) -> datetime:
        window = self.declaration.first_round_window
        return add(self.calendar, self.declaration.signed_at, window.days, window.count)

    @property
    def first_round_counting(self) -> Counting | None:
        """How the first-round deadline was counted, when the declaration says so (None: the `_days` key)."""
        window = self.declaration.first_round_within
        if window is None:
            return None
        return Counting(days=window.days, count=window.count, calendars=holiday_labels(self.calendar))


def holiday_labels(calendar: WorkingCalendar | None) -> list[str]:
    return list(calendar.calendars) if calendar else []


# --- operator requests (Updates) -------------------------------------------------


class OpenRoundRequest(_Model):
    meeting_at: limits.WrittenDate
    inputs_due: limits.WrittenDate
    pillars: list[Pillar] | None = Field(default=None, description="default: all the declaration's pillars")
    requested_by: Email


class ExtendDeadlineRequest(_Model):
    until: limits.WrittenDate
    reason: Annotated[str, Field(min_length=1), limits.text(limits.MAX_REASON)]
    requested_by: Email


class StartDraftingRequest(_Model):
    requested_by: Email


class SubmitDraftRequest(_Model):
    """A version of the agreement, in one or both languages (a reader whose language is missing gets the other)."""

    documents: dict[Locale, str]
    requested_by: Email
    # The version's annexes (its fingerprint covers them).
    annexes: Files = Field(default_factory=list)


class WithdrawRequest(_Model):
    reason: Annotated[str, Field(min_length=1), limits.text(limits.MAX_REASON)]
    requested_by: Email


# --- what the workflow records ---------------------------------------------------


class RoundRecord(_Model):
    """A round as the consultation knows it; progress arrives from the round's own workflow."""

    number: int
    meeting_at: datetime
    inputs_due: datetime
    pillars: list[Pillar]
    opened_by: str
    opened_at: datetime
    workflow_id: str = ""
    state: RoundState = RoundState.COLLECTING
    grid: Grid = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    minutes_version: int | None = None
    minutes_sha256: str | None = None
    next_deadline: datetime | None = None
    overdue: bool = False
    # The meeting invitation's SEQUENCE: how many times the meeting was moved.
    meeting_sequence: int = 0


class Extension(_Model):
    previous_deadline: datetime
    new_deadline: datetime
    reason: str
    by: str
    at: datetime


class Withdrawal(_Model):
    reason: str
    by: str
    at: datetime


class ConsultationStatus(_Model):
    id: str
    workflow_id: str
    title: str
    stage: Stage
    overdue: bool
    signed_at: datetime
    first_round_deadline: datetime
    # How the first-round deadline was counted, while it is the declaration's own (None once extended).
    first_round_counting: Counting | None = None
    next_deadline: datetime | None
    parties: list[str]
    pillars: list[Pillar]
    operators: list[str]
    rounds: list[RoundRecord]
    extensions: list[Extension]
    notices: list[NoticeRecord]
    withdrawal: Withdrawal | None
    # The agreement: every draft version, the decisions on each, and how it ended.
    drafts: list[DocumentVersion] = Field(default_factory=list)
    agreement_approval: ApprovalState | None = None
    agreement_decisions: list[DecisionRecord] = Field(default_factory=list)
    concluded_at: datetime | None = None
    review_schedule: str | None = None  # the Schedule id, once reviews are scheduled

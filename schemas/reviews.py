"""Reviews that institutionalise a concluded agreement: a Temporal Schedule opens a review round every N months."""

from __future__ import annotations

from pydantic import ConfigDict

from schemas.base import Model
from schemas.declaration import Declaration, Pillar

# Days a review round gives the parties: inputs due, then the meeting.
REVIEW_INPUTS_DAYS = 10
REVIEW_MEETING_DAYS = 14

# The review workflow's registered name: the schedule activity starts it by name (activities sit below workflows).
REVIEW_WORKFLOW = "Review"


def review_schedule_id(consultation_id: str) -> str:
    return f"review-{consultation_id}"


class ReviewInput(Model):
    model_config = ConfigDict(frozen=True)

    declaration: Declaration
    pillars: list[Pillar]
    agreement_sha256: str


class ReviewScheduleRequest(Model):
    model_config = ConfigDict(frozen=True)

    review: ReviewInput
    every_months: int
    task_queue: str

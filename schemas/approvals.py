"""Approval of a document version by every party, each by its own rule (any / all approvers)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from schemas import limits
from schemas.base import Model
from schemas.declaration import Email
from schemas.pillar_inputs import Channel


class Decision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    DECLINE = "decline"


class Outcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    DECLINED = "declined"


class DecisionRequest(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    approver: Email
    decision: Decision
    # Through a link, the version the link is for (refused once it is not the current one); an operator may
    # leave it empty: recorded on the version current when the decision arrives.
    sha256: Annotated[
        str,
        Field(description="the version decided on, which must be the current one; empty: the current one"),
        limits.one_line(limits.MAX_SHA256),
    ] = ""
    comment: Annotated[str, limits.text(limits.MAX_COMMENT)] = ""
    channel: Channel = Channel.OPERATOR
    # Who sent it: the approver (email link) or an operator recording it on their behalf.
    recorded_by: Email


class DelegateRequest(Model):
    """An approver forwards their decision on the current version to a colleague of the same party."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approver: Email
    delegate: Email
    channel: Channel = Channel.OPERATOR
    recorded_by: Email


class Delegation(Model):
    model_config = ConfigDict(frozen=True)

    party: str
    approver: str
    approver_name: str
    delegate: str
    delegate_name: str
    version: int
    channel: Channel
    recorded_by: str
    at: datetime


class DecisionRecord(Model):
    model_config = ConfigDict(frozen=True)

    party: str
    approver: str  # whose decision it is
    approver_name: str
    decision: Decision
    comment: str
    version: int
    sha256: str
    channel: Channel
    recorded_by: str
    at: datetime
    # Set when a delegate decided on the approver's behalf: the record shows both.
    delegate: str | None = None
    delegate_name: str | None = None


class ApprovalState(Model):
    model_config = ConfigDict(frozen=True)

    subject: str
    version: int
    sha256: str
    deadline: datetime
    overdue: bool
    outcome: Outcome
    parties: dict[str, Outcome]
    decisions: list[DecisionRecord]
    delegations: list[Delegation] = Field(default_factory=list)

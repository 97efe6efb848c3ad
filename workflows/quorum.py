"""Who has approved: each party's rule (any / all of its approvers), then all parties together."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.approvals import Decision, DecisionRecord, Outcome
from schemas.declaration import ApprovalRule


def party_outcome(rule: ApprovalRule, approvers: Iterable[str], decisions: Iterable[DecisionRecord]) -> Outcome:
    """A decline or a request for changes by any approver decides for the party at once."""
    decided = list(decisions)
    if any(d.decision is Decision.DECLINE for d in decided):
        return Outcome.DECLINED
    if any(d.decision is Decision.REQUEST_CHANGES for d in decided):
        return Outcome.CHANGES_REQUESTED
    approved = {d.approver for d in decided if d.decision is Decision.APPROVE}
    needed = set(approvers)
    if rule is ApprovalRule.ANY and approved & needed:
        return Outcome.APPROVED
    if rule is ApprovalRule.ALL and needed <= approved:
        return Outcome.APPROVED
    return Outcome.PENDING


def overall_outcome(parties: Iterable[Outcome]) -> Outcome:
    outcomes = list(parties)
    for decisive in (Outcome.DECLINED, Outcome.CHANGES_REQUESTED):
        if decisive in outcomes:
            return decisive
    return Outcome.APPROVED if outcomes and all(o is Outcome.APPROVED for o in outcomes) else Outcome.PENDING

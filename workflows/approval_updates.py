"""The `decide` and `delegate` updates, written once for every workflow that puts a document to approvers.

The consultation (agreement drafts) and each technical round (its minutes) inherit
them; the SDK registers updates a workflow class inherits as its own, under the
same names. The owner keeps its open `ApprovalStep` in `_approval`, says when
decisions are not awaited (`_awaiting_approval`, refusing with its own words) and
what it keeps of each decision (`_decision_recorded`).
"""

from __future__ import annotations

from temporalio import workflow

from schemas.approvals import DecisionRecord, DecisionRequest, DelegateRequest, Delegation
from workflows.approval import ApprovalStep
from workflows.validation import refuse_unless


class ApprovalUpdates:
    _approval: ApprovalStep | None

    def _awaiting_approval(self) -> ApprovalStep:
        """The step decisions go to now; raises RequestRefused, saying why, when none awaits them."""
        raise NotImplementedError

    def _decision_recorded(self, record: DecisionRecord) -> None:
        """What the owner keeps of a recorded decision, and what it shows of it."""
        raise NotImplementedError

    @workflow.update
    def decide(self, request: DecisionRequest) -> DecisionRecord:
        # Not checked again here: the workflow may have moved on since the validator ran
        # (in the same activation), and the decision the validator accepted stands.
        assert self._approval is not None  # guaranteed by the validator
        record = self._approval.record(request)
        self._decision_recorded(record)
        return record

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        refuse_unless(lambda: self._awaiting_approval().check(request))

    @workflow.update
    def delegate(self, request: DelegateRequest) -> Delegation:
        assert self._approval is not None  # guaranteed by the validator
        return self._approval.record_delegation(request)

    @delegate.validator
    def _validate_delegate(self, request: DelegateRequest) -> None:
        refuse_unless(lambda: self._awaiting_approval().check_delegation(request))

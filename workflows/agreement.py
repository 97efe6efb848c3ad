"""The agreement stage of the consultation workflow: versioned drafts, each put to every party's approvers.

Kept in its own module and inherited by `Consultation` (the SDK registers inherited
updates as the workflow's own): `submit_draft`, and `decide`/`delegate` from
`ApprovalUpdates`. It works on the consultation's state, declared here by name;
`Consultation.__init__` sets it all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from activities.schedules import Scheduler
from schemas.approvals import Decision, DecisionRecord, Outcome
from schemas.consultation import Stage, SubmitDraftRequest
from schemas.declaration import Declaration
from schemas.documents import DocumentVersion, as_issued, next_version
from schemas.links import LinkPurpose
from schemas.notices import NoticeFacts, NoticeKind
from schemas.reviews import ReviewInput, ReviewScheduleRequest
from schemas.working_days import WorkingCalendar
from workflows import rules
from workflows.approval import ApprovalStep
from workflows.approval_updates import ApprovalUpdates
from workflows.notifier import Notifier
from workflows.validation import refuse_unless


class AgreementStage(ApprovalUpdates):
    _declaration: Declaration
    _calendar: WorkingCalendar | None
    _notifier: Notifier
    _stage: Stage
    _drafts: list[DocumentVersion]
    _approval: ApprovalStep | None
    _agreement_decisions: list[DecisionRecord]
    _concluded_at: datetime | None
    _review_schedule: str | None

    def _publish(self) -> None:
        raise NotImplementedError

    async def _agree(self) -> None:
        """Each submitted draft goes to every party's approvers, until one version is approved by all,
        a party declines, or the consultation is withdrawn."""
        handled = 0
        while not self._stage.is_final:
            await self._next_draft_or_end(handled)
            if self._stage.is_final:
                return
            handled = len(self._drafts)
            draft = self._drafts[-1]
            self._approval = ApprovalStep(
                subject="agreement draft",
                document=draft,
                declaration=self._declaration,
                notifier=self._notifier,
                allowed=(Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.DECLINE),
                previous=self._drafts[-2] if len(self._drafts) > 1 else None,
                on_change=self._publish,
                link_purpose=LinkPurpose.AGREEMENT_APPROVAL,
                calendar=self._calendar,
            )
            self._publish()
            outcome = await self._approval.run(until=lambda: self._stage.is_final)
            if outcome is Outcome.APPROVED:
                self._stage = Stage.CONCLUDED
                self._concluded_at = workflow.now()
                self._publish()
                await self._notifier.send(
                    NoticeKind.CONCLUDED,
                    self._notifier.everyone(),
                    NoticeFacts(version=draft.version, sha256=draft.sha256, documents=draft.documents),
                )
                await self._schedule_reviews(draft)
            elif outcome is Outcome.DECLINED:
                decline = next(d for d in self._approval.decisions if d.decision is Decision.DECLINE)
                self._stage = Stage.DECLINED
                self._publish()
                await self._notifier.send(
                    NoticeKind.DECLINED,
                    self._notifier.everyone(),
                    NoticeFacts(
                        version=draft.version,
                        sha256=draft.sha256,
                        actor=f"{decline.approver_name} ({decline.party})",
                        reason=decline.comment,
                    ),
                )
            elif outcome is Outcome.CHANGES_REQUESTED:
                self._stage = Stage.DRAFTING_AGREEMENT
                self._publish()
                await self._notifier.send(
                    NoticeKind.DRAFT_CHANGES_REQUESTED,
                    self._notifier.operators(),
                    NoticeFacts(
                        version=draft.version,
                        sha256=draft.sha256,
                        comments=self._approval.comments(),
                    ),
                )

    async def _next_draft_or_end(self, handled: int) -> None:
        await workflow.wait_condition(lambda: self._stage.is_final or len(self._drafts) > handled)

    async def _schedule_reviews(self, agreement: DocumentVersion) -> None:
        d = self._declaration
        if d.review_every_months is None:
            return
        self._review_schedule = await workflow.execute_activity_method(
            Scheduler.create_review_schedule,
            ReviewScheduleRequest(
                review=ReviewInput(declaration=d, pillars=list(d.pillars), agreement_sha256=agreement.sha256),
                every_months=d.review_every_months,
                task_queue=workflow.info().task_queue,
            ),
            start_to_close_timeout=timedelta(minutes=1),
            summary=f"Schedule a review round every {d.review_every_months} month(s)",
        )
        self._publish()

    @workflow.update
    def submit_draft(self, request: SubmitDraftRequest) -> DocumentVersion:
        documents = as_issued(request.documents)
        draft = next_version(self._drafts, documents, request.requested_by, workflow.now(), request.annexes)
        self._drafts.append(draft)
        self._stage = Stage.AWAITING_APPROVAL
        self._publish()
        return draft

    @submit_draft.validator
    def _validate_submit_draft(self, request: SubmitDraftRequest) -> None:
        refuse_unless(lambda: rules.check_submit_draft(request, declaration=self._declaration, stage=self._stage))

    def _decision_recorded(self, record: DecisionRecord) -> None:
        self._agreement_decisions.append(record)
        self._publish()

    def _awaiting_approval(self) -> ApprovalStep:
        if self._approval is None or self._stage is not Stage.AWAITING_APPROVAL:
            raise rules.RequestRefused(f"no agreement draft awaits approval (stage {self._stage.value})")
        return self._approval

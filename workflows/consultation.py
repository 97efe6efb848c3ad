"""The consultation workflow: one per declaration, from `declared` to its end.

Queries:  status -> ConsultationStatus
Updates:  open_round, extend_deadline, start_drafting, withdraw, submit_draft, and decide, delegate
          on the draft awaiting approval (from ApprovalUpdates); each with a validator: a refused
          request writes nothing to history
Signals:  round_progress (from its TechnicalRound children)

Update handlers only record; the `run` coroutine does the talking (emails, child
workflows), so a handler never races with another over an awaited activity.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from infra.formatting import fmt
from schemas.approvals import ApprovalState, DecisionRecord
from schemas.consultation import (
    ConsultationInput,
    ConsultationStatus,
    ExtendDeadlineRequest,
    Extension,
    OpenRoundRequest,
    RoundRecord,
    Stage,
    StartDraftingRequest,
    Withdrawal,
    WithdrawRequest,
)
from schemas.declaration import Declaration
from schemas.documents import DocumentVersion
from schemas.notices import NoticeFacts, NoticeKind
from schemas.rounds import ROUND_PROGRESS_SIGNAL, RoundProgress, RoundState
from workflows import grid, rules, views
from workflows.agreement import AgreementStage
from workflows.approval import ApprovalStep
from workflows.notifier import IN_THE_WORKFLOW, QUIET_HISTORY, Notifier
from workflows.pages import ConsultationPages
from workflows.rules import ClockEventKind
from workflows.technical_round import TechnicalRound, round_workflow_id
from workflows.timing import wait_until
from workflows.validation import refuse_unless

CANCEL_MEETINGS = "cancel-meetings"


@workflow.defn
class Consultation(ConsultationPages, AgreementStage):
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self._declaration = input.declaration
        self._notifier = Notifier(input.declaration, input.declaration.id, deliver_here=IN_THE_WORKFLOW)
        self._tz = self._notifier.tz
        self._stage = Stage.DECLARED
        # Counted in the parties' working days when the declaration says so, from holidays recorded at start.
        self._calendar = input.calendar
        self._deadline = input.first_round_deadline
        self._counting = input.first_round_counting
        self._overdue = False
        # The clock is re-planned from this moment whenever the deadline moves.
        self._clock_since = workflow.now()
        self._rounds: list[RoundRecord] = []
        self._rounds_started = 0
        self._extensions: list[Extension] = []
        self._drafting_by: str | None = None
        self._drafts: list[DocumentVersion] = []
        self._approval: ApprovalStep | None = None
        self._agreement_decisions: list[DecisionRecord] = []
        self._concluded_at: datetime | None = None
        self._review_schedule: str | None = None
        self._withdrawal: Withdrawal | None = None
        # What was last upserted: at first, what the start set (`views.initial_search_attributes`).
        self._published: tuple[object, ...] = (Stage.DECLARED, False, input.first_round_deadline, None)

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationStatus:
        self._publish()
        await self._notifier.send(
            NoticeKind.OPENED, self._notifier.everyone(), NoticeFacts(deadline=self._deadline, counting=self._counting)
        )
        await self._first_round_clock()
        while not self._past_rounds():
            await self._run_pending_round()
            await workflow.wait_condition(lambda: self._past_rounds() or len(self._rounds) > self._rounds_started)
        # A first draft may already be in (awaiting approval) by the time this line runs.
        if self._stage in (Stage.DRAFTING_AGREEMENT, Stage.AWAITING_APPROVAL):
            await self._notifier.send(
                NoticeKind.DRAFTING_STARTED, self._notifier.everyone(), NoticeFacts(actor=self._drafting_by)
            )
            await self._agree()
        if self._withdrawal is not None:
            await self._notifier.send(
                NoticeKind.WITHDRAWN,
                self._notifier.everyone(),
                self._with_cancelled_meeting(NoticeFacts(reason=self._withdrawal.reason, actor=self._withdrawal.by)),
            )
        await self._notifier.wait_for_last_notices(or_end_at_once=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    # --- the first-round clock -----------------------------------------------------------

    async def _first_round_clock(self) -> None:
        """Reminders, then escalation, until round 1 opens or the consultation ends.

        An extension appends to `_extensions`; the plan is then rebuilt from the new deadline.
        """
        while self._stage is Stage.DECLARED:
            extensions_seen = len(self._extensions)

            def interrupted(seen: int = extensions_seen) -> bool:
                return self._stage is not Stage.DECLARED or len(self._extensions) != seen

            offsets = self._declaration.reminder_offsets
            plan = rules.deadline_clock(self._deadline, offsets.days, self._clock_since, self._calendar, offsets.count)
            for event in plan:
                if event.kind is ClockEventKind.REMINDER:
                    what = f"Reminder {event.days_before} day(s) before the first-round deadline"
                else:
                    what = "Escalation at the first-round deadline"
                if not await wait_until(event.at, interrupted, f"{what} ({fmt(event.at, self._tz)})"):
                    break
                if event.kind is ClockEventKind.REMINDER:
                    await self._notifier.send(
                        NoticeKind.REMINDER,
                        self._notifier.everyone(),
                        NoticeFacts(deadline=self._deadline, days_left=event.days_before, counting=self._counting),
                    )
                else:
                    self._overdue = True
                    self._publish()
                    await self._notifier.send(
                        NoticeKind.ESCALATION,
                        self._notifier.everyone(),
                        NoticeFacts(deadline=self._deadline, counting=self._counting),
                    )
            else:
                await workflow.wait_condition(interrupted)
            for ext in self._extensions[extensions_seen:] if self._stage is Stage.DECLARED else []:
                await self._notifier.send(
                    NoticeKind.DEADLINE_EXTENDED,
                    self._notifier.everyone(),
                    NoticeFacts(
                        deadline=ext.new_deadline,
                        previous_deadline=ext.previous_deadline,
                        reason=ext.reason,
                        actor=ext.by,
                    ),
                )

    def _with_cancelled_meeting(self, facts: NoticeFacts) -> NoticeFacts:
        """The final notice also cancels the open round's meeting in everyone's calendar (METHOD:CANCEL).

        Behind a patch: consultations withdrawn before this replay the notice they sent then.
        """
        if not workflow.patched(CANCEL_MEETINGS):
            return facts
        return facts.model_copy(update=views.meeting_cancellation(self._rounds))

    def _past_rounds(self) -> bool:
        return self._stage.is_final or self._stage in (Stage.DRAFTING_AGREEMENT, Stage.AWAITING_APPROVAL)

    @workflow.query
    def declaration(self) -> Declaration:
        """Who is who (names, roles, languages): what the gateway needs to address a page to its reader."""
        return self._declaration

    # --- rounds --------------------------------------------------------------------------

    async def _run_pending_round(self) -> None:
        """Starts the round an operator opened and waits for it (or for the consultation's end)."""
        if len(self._rounds) == self._rounds_started or self._stage.is_final:
            return
        r = self._rounds[-1]
        self._rounds_started += 1
        await self._notifier.send(
            NoticeKind.ROUND_SCHEDULED,
            self._notifier.everyone(),
            NoticeFacts(
                round_number=r.number,
                meeting_at=r.meeting_at,
                inputs_due=r.inputs_due,
                pillars=r.pillars,
                actor=r.opened_by,
            ),
        )
        child = await workflow.start_child_workflow(
            TechnicalRound.run,
            views.round_input(self._declaration, r, self._calendar),
            id=r.workflow_id,
            static_summary=views.round_static_summary(self._declaration.id, r),
            static_details=views.round_static_details(r, self._tz),
            # A withdrawn consultation takes its open round with it.
            parent_close_policy=ParentClosePolicy.TERMINATE,
        )
        await workflow.wait_condition(lambda: child.done() or self._stage.is_final)
        if child.done():
            self._apply_progress(views.final_progress(child.result()))

    @workflow.signal(name=ROUND_PROGRESS_SIGNAL)
    def round_progress(self, progress: RoundProgress) -> None:
        self._apply_progress(progress)

    def _apply_progress(self, progress: RoundProgress) -> None:
        index = progress.number - 1
        if not 0 <= index < len(self._rounds):
            return
        self._rounds[index] = self._rounds[index].model_copy(update=views.progress_update(progress))
        self._publish()

    def _open_round_number(self) -> int | None:
        return views.open_round_number(self._rounds)

    # --- operator actions ----------------------------------------------------------------

    @workflow.update
    def open_round(self, request: OpenRoundRequest) -> RoundRecord:
        number = len(self._rounds) + 1
        record = RoundRecord(
            number=number,
            meeting_at=request.meeting_at,
            inputs_due=request.inputs_due,
            pillars=request.pillars or list(self._declaration.pillars),
            opened_by=request.requested_by,
            opened_at=workflow.now(),
            workflow_id=round_workflow_id(workflow.info().workflow_id, number),
            next_deadline=request.inputs_due,
        )
        record = record.model_copy(
            update={"grid": grid.build_grid([p.code for p in self._declaration.parties], record.pillars, [])}
        )
        self._rounds.append(record)
        self._stage = Stage.TECHNICAL_ROUNDS
        self._overdue = False
        self._publish()
        return record

    @open_round.validator
    def _validate_open_round(self, request: OpenRoundRequest) -> None:
        refuse_unless(
            lambda: rules.check_open_round(
                request,
                declaration=self._declaration,
                stage=self._stage,
                deadline=self._deadline,
                now=workflow.now(),
                open_round=self._open_round_number(),
            )
        )

    @workflow.update
    def extend_deadline(self, request: ExtendDeadlineRequest) -> Extension:
        extension = Extension(
            previous_deadline=self._deadline,
            new_deadline=request.until,
            reason=request.reason.strip(),
            by=request.requested_by,
            at=workflow.now(),
        )
        self._extensions.append(extension)
        self._deadline = request.until
        self._counting = None  # a date an operator chose, not counted
        self._clock_since = workflow.now()
        self._overdue = False
        self._publish()
        return extension

    @extend_deadline.validator
    def _validate_extend(self, request: ExtendDeadlineRequest) -> None:
        refuse_unless(
            lambda: rules.check_extend(
                request,
                declaration=self._declaration,
                stage=self._stage,
                deadline=self._deadline,
                now=workflow.now(),
            )
        )

    @workflow.update
    def start_drafting(self, request: StartDraftingRequest) -> None:
        self._drafting_by = request.requested_by
        self._stage = Stage.DRAFTING_AGREEMENT
        self._publish()

    @start_drafting.validator
    def _validate_start_drafting(self, request: StartDraftingRequest) -> None:
        refuse_unless(
            lambda: rules.check_start_drafting(
                request,
                declaration=self._declaration,
                stage=self._stage,
                open_round=self._open_round_number(),
                closed_rounds=sum(1 for r in self._rounds if r.state is RoundState.CLOSED),
            )
        )

    @workflow.update
    def withdraw(self, request: WithdrawRequest) -> Withdrawal:
        self._withdrawal = Withdrawal(reason=request.reason.strip(), by=request.requested_by, at=workflow.now())
        self._stage = Stage.WITHDRAWN
        self._publish()
        return self._withdrawal

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        refuse_unless(lambda: rules.check_withdraw(request, declaration=self._declaration, stage=self._stage))

    # --- status and what the Temporal UI shows -------------------------------------------

    @workflow.query
    def status(self) -> ConsultationStatus:
        d = self._declaration
        return ConsultationStatus(
            id=d.id,
            workflow_id=workflow.info().workflow_id,
            title=d.title,
            stage=self._stage,
            overdue=self._is_overdue(),
            signed_at=d.signed_at,
            first_round_deadline=self._deadline,
            first_round_counting=self._counting,
            next_deadline=self._next_deadline(),
            parties=[p.code for p in d.parties],
            pillars=list(d.pillars),
            operators=[o.email for o in d.operators],
            rounds=list(self._rounds),
            extensions=list(self._extensions),
            notices=list(self._notifier.records),
            withdrawal=self._withdrawal,
            drafts=list(self._drafts),
            agreement_approval=self._approval_state(),
            agreement_decisions=list(self._agreement_decisions),
            concluded_at=self._concluded_at,
            review_schedule=self._review_schedule,
        )

    def _is_overdue(self) -> bool:
        return views.is_overdue(self._stage, self._overdue, self._rounds, self._approval_state())

    def _next_deadline(self) -> datetime | None:
        return views.next_deadline(self._stage, self._deadline, self._rounds, self._approval_state())

    def _approval_state(self) -> ApprovalState | None:
        return self._approval.state() if self._approval else None

    def _publish(self) -> None:
        """Keep what the Temporal UI shows (search attributes, current details) in step with the state."""
        overdue = self._is_overdue()
        values = (self._stage, overdue, self._next_deadline(), self._open_round_number())
        if values != self._published or not workflow.patched(QUIET_HISTORY):
            workflow.upsert_search_attributes(views.search_attributes(*values))
            self._published = values
        details = views.current_details(
            stage=self._stage,
            overdue=overdue,
            first_round_deadline=self._deadline,
            rounds=self._rounds,
            extensions=self._extensions,
            drafts=self._drafts,
            approval=self._approval_state(),
            withdrawal=self._withdrawal,
            tz=self._tz,
        )
        workflow.set_current_details(details)

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

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.workflow import ParentClosePolicy

from activities.schedules import Scheduler
from infra.formatting import display_tz, fmt
from schemas import search_attributes as sa
from schemas.approvals import Decision, DecisionRecord, Outcome
from schemas.consultation import (
    ConsultationInput,
    ConsultationStatus,
    ExtendDeadlineRequest,
    Extension,
    OpenRoundRequest,
    RoundRecord,
    Stage,
    StartDraftingRequest,
    SubmitDraftRequest,
    Withdrawal,
    WithdrawRequest,
)
from schemas.declaration import Declaration
from schemas.documents import MAX_DOCUMENT_BYTES, DocumentVersion, document_sha256
from schemas.links import LinkPurpose
from schemas.notices import NoticeFacts, NoticeKind
from schemas.reviews import ReviewInput, ReviewScheduleRequest
from schemas.rounds import ROUND_PROGRESS_SIGNAL, RoundInput, RoundProgress, RoundState
from workflows import grid, rules
from workflows.approval import ApprovalStep
from workflows.approval_updates import ApprovalUpdates
from workflows.notifier import Notifier
from workflows.rules import ClockEventKind
from workflows.technical_round import TechnicalRound, round_workflow_id
from workflows.timing import wait_until
from workflows.validation import refuse_unless


def initial_search_attributes(input: ConsultationInput) -> TypedSearchAttributes:
    """Set at start, so the consultation is findable before its first task runs."""
    d = input.declaration
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.STAGE, Stage.DECLARED.value),
            SearchAttributePair(sa.PARTIES, [p.code for p in d.parties]),
            SearchAttributePair(sa.OVERDUE, False),
            SearchAttributePair(sa.NEXT_DEADLINE, d.first_round_deadline),
        ]
    )


def static_summary(input: ConsultationInput) -> str:
    d = input.declaration
    return f"{d.title} ({' – '.join(p.code for p in d.parties)})"


def static_details(input: ConsultationInput) -> str:
    d = input.declaration
    tz = display_tz(d.signed_at)
    lines = [
        f"**{d.title}**",
        "",
        f"- Signed: {fmt(d.signed_at, tz)}",
        f"- First round within {d.first_round_within_days} days: by {fmt(d.first_round_deadline, tz)}",
        f"- Parties: {', '.join(f'{p.name} ({p.code}, approval: {p.approval.value})' for p in d.parties)}",
        f"- Pillars: {', '.join(p.value for p in d.pillars)}",
        f"- Operators: {', '.join(o.email for o in d.operators)}",
    ]
    return "\n".join(lines)


@workflow.defn
class Consultation(ApprovalUpdates):
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self._declaration = input.declaration
        self._notifier = Notifier(input.declaration, input.declaration.id)
        self._tz = self._notifier.tz
        self._stage = Stage.DECLARED
        self._deadline = input.declaration.first_round_deadline
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

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationStatus:
        self._publish()
        await self._notifier.send(NoticeKind.OPENED, self._notifier.everyone(), NoticeFacts(deadline=self._deadline))
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
                NoticeFacts(reason=self._withdrawal.reason, actor=self._withdrawal.by),
            )
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

            plan = rules.deadline_clock(self._deadline, self._declaration.reminder_days_before, self._clock_since)
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
                        NoticeFacts(deadline=self._deadline, days_left=event.days_before),
                    )
                else:
                    self._overdue = True
                    self._publish()
                    await self._notifier.send(
                        NoticeKind.ESCALATION, self._notifier.everyone(), NoticeFacts(deadline=self._deadline)
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

    def _past_rounds(self) -> bool:
        return self._stage.is_final or self._stage in (Stage.DRAFTING_AGREEMENT, Stage.AWAITING_APPROVAL)

    # --- the agreement -------------------------------------------------------------------

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
                        comments=[
                            f"{d.approver_name} ({d.party}): {d.comment}" for d in self._approval.decisions if d.comment
                        ],
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
        documents = {locale: text.strip() + "\n" for locale, text in request.documents.items()}
        draft = DocumentVersion(
            version=len(self._drafts) + 1,
            sha256=document_sha256(documents),
            documents=documents,
            issued_by=request.requested_by,
            issued_at=workflow.now(),
        )
        self._drafts.append(draft)
        self._stage = Stage.AWAITING_APPROVAL
        self._publish()
        return draft

    @submit_draft.validator
    def _validate_submit_draft(self, request: SubmitDraftRequest) -> None:
        def check() -> None:
            rules.check_operator(self._declaration, request.requested_by)
            if self._stage is not Stage.DRAFTING_AGREEMENT:
                raise rules.RequestRefused(
                    f"drafts are submitted while drafting the agreement (stage {self._stage.value}); "
                    + (
                        "the current draft awaits the parties' decisions"
                        if self._stage is Stage.AWAITING_APPROVAL
                        else ""
                    )
                )
            if not request.documents or any(not text.strip() for text in request.documents.values()):
                raise rules.RequestRefused("the draft is empty")
            size = sum(len(text.encode("utf-8")) for text in request.documents.values())
            if size > MAX_DOCUMENT_BYTES:
                raise rules.RequestRefused(f"the draft is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")

        refuse_unless(check)

    def _decision_recorded(self, record: DecisionRecord) -> None:
        self._agreement_decisions.append(record)
        self._publish()

    def _awaiting_approval(self) -> ApprovalStep:
        if self._approval is None or self._stage is not Stage.AWAITING_APPROVAL:
            raise rules.RequestRefused(f"no agreement draft awaits approval (stage {self._stage.value})")
        return self._approval

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
            RoundInput(
                declaration=self._declaration,
                number=r.number,
                meeting_at=r.meeting_at,
                inputs_due=r.inputs_due,
                pillars=r.pillars,
                opened_by=r.opened_by,
            ),
            id=r.workflow_id,
            static_summary=f"Round {r.number} of {self._declaration.id}: {', '.join(p.value for p in r.pillars)}",
            static_details=(
                f"Meeting {fmt(r.meeting_at, self._tz)}; inputs due {fmt(r.inputs_due, self._tz)}; "
                f"opened by {r.opened_by}"
            ),
            # A withdrawn consultation takes its open round with it.
            parent_close_policy=ParentClosePolicy.TERMINATE,
        )
        await workflow.wait_condition(lambda: child.done() or self._stage.is_final)
        if child.done():
            final = child.result()
            self._apply_progress(
                RoundProgress(
                    number=final.number,
                    state=final.state,
                    grid=final.grid,
                    missing=final.missing,
                    minutes_version=final.minutes[-1].version if final.minutes else None,
                    minutes_sha256=final.minutes[-1].sha256 if final.minutes else None,
                )
            )

    @workflow.signal(name=ROUND_PROGRESS_SIGNAL)
    def round_progress(self, progress: RoundProgress) -> None:
        self._apply_progress(progress)

    def _apply_progress(self, progress: RoundProgress) -> None:
        index = progress.number - 1
        if not 0 <= index < len(self._rounds):
            return
        self._rounds[index] = self._rounds[index].model_copy(update=progress.model_dump(exclude={"number"}))
        self._publish()

    def _open_round_number(self) -> int | None:
        last = self._rounds[-1] if self._rounds else None
        return last.number if last and last.state is not RoundState.CLOSED else None

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
            next_deadline=self._next_deadline(),
            parties=[p.code for p in d.parties],
            pillars=list(d.pillars),
            operators=[o.email for o in d.operators],
            rounds=list(self._rounds),
            extensions=list(self._extensions),
            notices=list(self._notifier.records),
            withdrawal=self._withdrawal,
            drafts=list(self._drafts),
            agreement_approval=self._approval.state() if self._approval else None,
            agreement_decisions=list(self._agreement_decisions),
            concluded_at=self._concluded_at,
            review_schedule=self._review_schedule,
        )

    def _is_overdue(self) -> bool:
        if self._stage is Stage.DECLARED:
            return self._overdue
        if self._stage is Stage.AWAITING_APPROVAL and self._approval is not None:
            return self._approval.overdue
        open_number = self._open_round_number()
        return bool(open_number and self._rounds[open_number - 1].overdue and not self._stage.is_final)

    def _next_deadline(self) -> datetime | None:
        if self._stage is Stage.DECLARED:
            return self._deadline
        open_number = self._open_round_number()
        if self._stage is Stage.TECHNICAL_ROUNDS and open_number:
            return self._rounds[open_number - 1].next_deadline
        if self._stage is Stage.AWAITING_APPROVAL and self._approval is not None:
            return self._approval.deadline
        return None

    def _publish(self) -> None:
        """Keep what the Temporal UI shows (search attributes, current details) in step with the state."""
        next_deadline = self._next_deadline()
        open_number = self._open_round_number()
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(self._stage.value),
                sa.OVERDUE.value_set(self._is_overdue()),
                sa.NEXT_DEADLINE.value_set(next_deadline) if next_deadline else sa.NEXT_DEADLINE.value_unset(),
                sa.ROUND.value_set(open_number) if open_number and not self._stage.is_final else sa.ROUND.value_unset(),
            ]
        )
        lines = [f"**Stage:** {self._stage.value}" + (" — **OVERDUE**" if self._is_overdue() else "")]
        if self._stage is Stage.DECLARED:
            lines.append(f"**First round due by:** {fmt(self._deadline, self._tz)}")
        for r in self._rounds:
            line = (
                f"**Round {r.number}** ({r.state.value}): meeting {fmt(r.meeting_at, self._tz)}, "
                f"inputs due {fmt(r.inputs_due, self._tz)}"
            )
            if r.minutes_sha256:
                line += f"; minutes v{r.minutes_version} `{r.minutes_sha256[:12]}…`"
            lines.append(line)
            if r.number == open_number:
                lines.append(grid.grid_markdown(r.grid))
        for e in self._extensions:
            lines.append(f"Extended to {fmt(e.new_deadline, self._tz)} by {e.by}: {e.reason}")
        if self._drafts:
            d = self._drafts[-1]
            lines.append(f"**Agreement draft v{d.version}** `{d.sha256[:12]}…`")
            if self._approval is not None and self._approval.document.version == d.version:
                parties = ", ".join(f"{code}: {o.value}" for code, o in self._approval.party_outcomes().items())
                lines.append(f"Decisions: {parties}")
        if self._withdrawal:
            lines.append(f"Withdrawn by {self._withdrawal.by}: {self._withdrawal.reason}")
        workflow.set_current_details("\n\n".join(lines))

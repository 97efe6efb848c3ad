"""The consultation workflow: one per declaration, from `declared` to its end.

Queries:  status -> ConsultationStatus
Updates:  open_round, extend_deadline, withdraw (each with a validator: a refused
          request writes nothing to history)

Update handlers only record; the `run` coroutine does the talking (emails), so a
handler never races with another over an awaited activity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.email import Mailer
    from schemas import search_attributes as sa
    from schemas.consultation import (
        ConsultationInput,
        ConsultationStatus,
        ExtendDeadlineRequest,
        Extension,
        NoticeRecord,
        OpenRoundRequest,
        RoundRecord,
        Stage,
        Withdrawal,
        WithdrawRequest,
    )
    from schemas.notices import Notice, NoticeKind, Recipient
    from workflows import rules
    from workflows.rules import ClockEvent, ClockEventKind, RequestRefused

MAIL_TIMEOUT = timedelta(minutes=2)
# SMTP outages are retried with backoff for up to a day; after that the notice is
# recorded as failed and the consultation goes on rather than stalling its clock.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))
MAIL_GIVE_UP_AFTER = timedelta(days=1)


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
    tz = rules.display_tz(d.signed_at)
    lines = [
        f"**{d.title}**",
        "",
        f"- Signed: {rules.fmt(d.signed_at, tz)}",
        f"- First round within {d.first_round_within_days} days: by {rules.fmt(d.first_round_deadline, tz)}",
        f"- Parties: {', '.join(f'{p.name} ({p.code}, approval: {p.approval.value})' for p in d.parties)}",
        f"- Pillars: {', '.join(p.value for p in d.pillars)}",
        f"- Operators: {', '.join(o.email for o in d.operators)}",
    ]
    return "\n".join(lines)


@workflow.defn
class Consultation:
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self._declaration = input.declaration
        self._tz = rules.display_tz(input.declaration.signed_at)
        self._stage = Stage.DECLARED
        self._deadline = input.declaration.first_round_deadline
        self._overdue = False
        # The clock is re-planned from this moment whenever the deadline moves.
        self._clock_since = workflow.now()
        self._rounds: list[RoundRecord] = []
        self._extensions: list[Extension] = []
        self._notices: list[NoticeRecord] = []
        self._withdrawal: Withdrawal | None = None

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationStatus:
        self._publish()
        await self._notify(NoticeKind.OPENED, deadline=self._deadline)
        await self._first_round_clock()
        if self._stage is Stage.TECHNICAL_ROUNDS:
            r = self._rounds[-1]
            await self._notify(
                NoticeKind.ROUND_SCHEDULED,
                round_number=r.number,
                meeting_at=r.meeting_at,
                inputs_due=r.inputs_due,
                pillars=r.pillars,
                actor=r.opened_by,
            )
            # Rounds themselves are the next capability; until then the consultation
            # waits here for its end.
            await workflow.wait_condition(lambda: self._stage.is_final)
        if self._withdrawal is not None:
            await self._notify(NoticeKind.WITHDRAWN, reason=self._withdrawal.reason, actor=self._withdrawal.by)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    # --- the first-round clock ---------------------------------------------------

    async def _first_round_clock(self) -> None:
        """Reminders, then escalation, until round 1 opens or the consultation ends.

        An extension bumps `_extensions`; the plan is then rebuilt from the new deadline.
        """
        while self._stage is Stage.DECLARED:
            extensions_seen = len(self._extensions)

            def interrupted(seen: int = extensions_seen) -> bool:
                return self._stage is not Stage.DECLARED or len(self._extensions) != seen

            plan = rules.first_round_clock(self._deadline, self._declaration.reminder_days_before, self._clock_since)
            for event in plan:
                if not await self._wait_until(event, interrupted):
                    break
                await self._fire(event)
            else:
                await workflow.wait_condition(interrupted)
            for ext in self._extensions[extensions_seen:] if self._stage is Stage.DECLARED else []:
                await self._notify(
                    NoticeKind.DEADLINE_EXTENDED,
                    deadline=ext.new_deadline,
                    previous_deadline=ext.previous_deadline,
                    reason=ext.reason,
                    actor=ext.by,
                )

    async def _wait_until(self, event: ClockEvent, interrupted: Callable[[], bool]) -> bool:
        """True when the event's moment arrives, False if interrupted first."""
        delay = event.at - workflow.now()
        if delay <= timedelta(0):
            return not interrupted()
        what = (
            f"Reminder {event.days_before} day(s) before the first-round deadline"
            if event.kind is ClockEventKind.REMINDER
            else "Escalation at the first-round deadline"
        )
        try:
            await workflow.wait_condition(
                interrupted, timeout=delay, timeout_summary=f"{what} ({rules.fmt(event.at, self._tz)})"
            )
        except TimeoutError:
            return True
        return False

    async def _fire(self, event: ClockEvent) -> None:
        if event.kind is ClockEventKind.REMINDER:
            await self._notify(NoticeKind.REMINDER, deadline=self._deadline, days_left=event.days_before)
            return
        self._overdue = True
        self._publish()
        await self._notify(NoticeKind.ESCALATION, deadline=self._deadline)

    # --- operator actions --------------------------------------------------------

    @workflow.update
    def open_round(self, request: OpenRoundRequest) -> RoundRecord:
        record = RoundRecord(
            number=len(self._rounds) + 1,
            meeting_at=request.meeting_at,
            inputs_due=request.inputs_due,
            pillars=request.pillars or list(self._declaration.pillars),
            opened_by=request.requested_by.strip().lower(),
            opened_at=workflow.now(),
        )
        self._rounds.append(record)
        self._stage = Stage.TECHNICAL_ROUNDS
        self._overdue = False
        self._publish()
        return record

    @open_round.validator
    def _validate_open_round(self, request: OpenRoundRequest) -> None:
        self._refuse_unless(
            lambda: rules.check_open_round(
                request,
                declaration=self._declaration,
                stage=self._stage,
                deadline=self._deadline,
                now=workflow.now(),
            )
        )

    @workflow.update
    def extend_deadline(self, request: ExtendDeadlineRequest) -> Extension:
        extension = Extension(
            previous_deadline=self._deadline,
            new_deadline=request.until,
            reason=request.reason.strip(),
            by=request.requested_by.strip().lower(),
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
        self._refuse_unless(
            lambda: rules.check_extend(
                request,
                declaration=self._declaration,
                stage=self._stage,
                deadline=self._deadline,
                now=workflow.now(),
            )
        )

    @workflow.update
    def withdraw(self, request: WithdrawRequest) -> Withdrawal:
        self._withdrawal = Withdrawal(
            reason=request.reason.strip(), by=request.requested_by.strip().lower(), at=workflow.now()
        )
        self._stage = Stage.WITHDRAWN
        self._publish()
        return self._withdrawal

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        self._refuse_unless(lambda: rules.check_withdraw(request, declaration=self._declaration, stage=self._stage))

    @staticmethod
    def _refuse_unless(check: Callable[[], None]) -> None:
        try:
            check()
        except RequestRefused as refused:
            raise ApplicationError(str(refused), type="RequestRefused", non_retryable=True) from None

    @workflow.query
    def status(self) -> ConsultationStatus:
        d = self._declaration
        return ConsultationStatus(
            id=d.id,
            workflow_id=workflow.info().workflow_id,
            title=d.title,
            stage=self._stage,
            overdue=self._overdue,
            signed_at=d.signed_at,
            first_round_deadline=self._deadline,
            next_deadline=self._next_deadline(),
            parties=[p.code for p in d.parties],
            pillars=list(d.pillars),
            operators=[o.email for o in d.operators],
            rounds=list(self._rounds),
            extensions=list(self._extensions),
            notices=list(self._notices),
            withdrawal=self._withdrawal,
        )

    # --- helpers -----------------------------------------------------------------

    def _next_deadline(self) -> datetime | None:
        if self._stage is Stage.DECLARED:
            return self._deadline
        if self._stage is Stage.TECHNICAL_ROUNDS and self._rounds:
            return self._rounds[-1].inputs_due
        return None

    def _publish(self) -> None:
        """Keep what the Temporal UI shows (search attributes, current details) in step with the state."""
        next_deadline = self._next_deadline()
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(self._stage.value),
                sa.OVERDUE.value_set(self._overdue),
                sa.NEXT_DEADLINE.value_set(next_deadline) if next_deadline else sa.NEXT_DEADLINE.value_unset(),
            ]
        )
        lines = [f"**Stage:** {self._stage.value}" + (" — **OVERDUE**" if self._overdue else "")]
        if self._stage is Stage.DECLARED:
            lines.append(f"**First round due by:** {rules.fmt(self._deadline, self._tz)}")
        for r in self._rounds:
            lines.append(
                f"**Round {r.number}:** meeting {rules.fmt(r.meeting_at, self._tz)}, "
                f"inputs due {rules.fmt(r.inputs_due, self._tz)} ({', '.join(p.value for p in r.pillars)})"
            )
        for e in self._extensions:
            lines.append(f"Extended to {rules.fmt(e.new_deadline, self._tz)} by {e.by}: {e.reason}")
        if self._withdrawal:
            lines.append(f"Withdrawn by {self._withdrawal.by}: {self._withdrawal.reason}")
        workflow.set_current_details("\n\n".join(lines))

    def _everyone(self) -> list[Recipient]:
        d = self._declaration
        counterparts = [
            Recipient(name=c.name, email=c.email, locale=c.locale) for p in d.parties for c in p.counterparts
        ]
        operators = [Recipient(name=o.name or o.email, email=o.email, locale=o.locale) for o in d.operators]
        return counterparts + operators

    async def _notify(self, kind: NoticeKind, **facts: object) -> None:
        d = self._declaration
        recipients = self._everyone()
        notice = Notice.model_validate(
            {
                # Stable across activity retries and replays: the n-th notice of this consultation.
                "notice_id": f"{d.id}.{len(self._notices) + 1:03d}.{kind.value}",
                "kind": kind,
                "consultation_id": d.id,
                "title": d.title,
                "issued_at": workflow.now(),
                "utc_offset_minutes": int(self._tz.utcoffset(None).total_seconds() // 60),
                "recipients": recipients,
                "parties": [p.code for p in d.parties],
                "pillars": list(d.pillars),
                **facts,
            }
        )
        record = NoticeRecord(
            notice_id=notice.notice_id,
            kind=kind.value,
            issued_at=notice.issued_at,
            recipients=[r.email for r in recipients],
        )
        self._notices.append(record)
        try:
            report = await workflow.execute_activity_method(
                Mailer.send_notice,
                notice,
                start_to_close_timeout=MAIL_TIMEOUT,
                schedule_to_close_timeout=MAIL_GIVE_UP_AFTER,
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=MAIL_RETRY,
                summary=f"Email '{kind.value}' to {len(recipients)} recipients",
            )
            updated = record.model_copy(update={"delivered": report.delivered, "refused": report.refused})
        except ActivityError as failure:
            workflow.logger.warning("notice %s could not be sent", notice.notice_id)
            updated = record.model_copy(update={"error": str(failure.cause or failure)})
        self._notices[self._notices.index(record)] = updated

"""A technical round: collect every party's input on every pillar, close, get the minutes approved.

A child of the consultation, so each round has its own history and the
consultation's stays small however many rounds there are.

Queries:  status -> RoundStatus
Updates:  submit_input, close, reschedule, reissue_minutes, and decide, delegate on the minutes (from
          ApprovalUpdates); each with a validator
Sends:    the `round_progress` signal to its consultation whenever its progress changes

Longer than most modules (~430 lines) because a round is one state machine: its inputs clock,
reschedules, closing, minutes and their approval share the round's state and must be read together
to see which update can race which; the pure checks live in `rules.py`, the readouts in `views.py`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

from activities.documents import MinutesRequest, render_minutes
from infra.formatting import fmt, offset_minutes
from schemas.annexes import FileRecord
from schemas.approvals import DecisionRecord, Outcome
from schemas.declaration import Declaration, Locale, Role
from schemas.documents import DocumentVersion, as_issued, next_version
from schemas.links import LINK_GRACE, LinkPurpose, LinkSpec
from schemas.notices import NoticeFacts, NoticeKind
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import (
    ROUND_PROGRESS_SIGNAL,
    CloseRoundRequest,
    Grid,
    MeetingRescheduled,
    ReissueMinutesRequest,
    RescheduleMeetingRequest,
    RoundInput,
    RoundProgress,
    RoundState,
    RoundStatus,
    SubmitInputRequest,
)
from workflows import grid, rules, views
from workflows.approval import ApprovalStep
from workflows.approval_updates import ApprovalUpdates
from workflows.notifier import QUIET_HISTORY, ROUND_IN_THE_WORKFLOW, Notifier
from workflows.pages import RoundPages
from workflows.rules import ClockEventKind, RequestRefused
from workflows.timing import wait_until
from workflows.validation import refuse_unless

# Since QUIET_HISTORY (workflows/notifier.py) the consultation hears of what it shows and acts on (state,
# deadlines, overdue, minutes, the meeting), not of each input and decision (their grid reaches it with the
# next of those; the round's own status is live) nor of the round's opening, which it recorded itself; and
# the round's result names each minutes version by number and SHA-256 without its text (the text is in this
# history where it was written, and the result is copied into the consultation's history too).


def round_workflow_id(consultation_workflow_id: str, number: int) -> str:
    return f"{consultation_workflow_id}-round-{number}"


@workflow.defn
class TechnicalRound(RoundPages, ApprovalUpdates):
    @workflow.init
    def __init__(self, input: RoundInput) -> None:
        self._input = input
        self._declaration = input.declaration
        self._notifier = Notifier(
            input.declaration, f"{input.declaration.id}.r{input.number}", deliver_here=ROUND_IN_THE_WORKFLOW
        )
        self._state = RoundState.COLLECTING
        self._submissions: list[SubmissionRecord] = []
        self._close: tuple[str, str] | None = None  # (reason, by) when an operator closes early
        self._inputs_closed_at: datetime | None = None
        self._close_reason: str | None = None
        self._close_kind: rules.CloseKind = "due"
        self._minutes: list[DocumentVersion] = []
        self._approval: ApprovalStep | None = None
        self._decisions: list[DecisionRecord] = []
        self._closed_at: datetime | None = None
        self._progress_dirty = True
        self._progress_sending = False
        self._progress_sent: dict[str, object] | None = None
        # Where the meeting stands: moved by `reschedule`, each move announced by `_announce_moves`.
        self._meeting_at = input.meeting_at
        self._inputs_due = input.inputs_due
        self._moves: list[MeetingRescheduled] = []
        self._moves_announced = 0
        # The progress the consultation recorded itself when it opened the round (not echoed back to it).
        self._opening = views.significant_progress(self._progress())

    @workflow.run
    async def run(self, input: RoundInput) -> RoundStatus:
        workflow.set_current_details(self._details())
        pump = asyncio.create_task(self._push_progress())
        # Waits (no commands) until a meeting moves: histories from before `reschedule` replay unchanged.
        announcer = asyncio.create_task(self._announce_moves())
        await self._collect()
        await self._write_minutes()
        while True:
            self._state = RoundState.MINUTES_APPROVAL
            self._changed()
            self._approval = ApprovalStep(
                subject=f"minutes of round {input.number}",
                document=self._minutes[-1],
                declaration=self._declaration,
                notifier=self._notifier,
                not_before=self._meeting_at,
                on_change=self._changed,
                link_purpose=LinkPurpose.MINUTES_APPROVAL,
                round_number=input.number,
                calendar=input.calendar,
            )
            outcome = await self._approval.run()
            if outcome is Outcome.APPROVED:
                break
            # Counted before the notice goes out: an operator may re-issue while it is being sent.
            versions = len(self._minutes)
            self._state = RoundState.CHANGES_REQUESTED
            self._changed()
            await self._notifier.send(
                NoticeKind.CHANGES_REQUESTED,
                self._notifier.operators(),
                NoticeFacts(
                    round_number=input.number,
                    subject=self._approval.subject,
                    version=self._approval.document.version,
                    sha256=self._approval.document.sha256,
                    comments=self._approval.comments(),
                ),
            )
            await self._wait_for_new_minutes(versions)
        self._state = RoundState.CLOSED
        self._closed_at = workflow.now()
        self._changed()
        final = self._minutes[-1]
        await self._notifier.send(
            NoticeKind.APPROVED,
            self._notifier.everyone(),
            NoticeFacts(
                round_number=input.number,
                subject=f"minutes of round {input.number}",
                version=final.version,
                sha256=final.sha256,
                documents=final.documents,
            ),
        )
        await self._notifier.wait_for_last_notices()
        await workflow.wait_condition(
            lambda: (
                not self._progress_dirty
                and not self._progress_sending
                and self._moves_announced == len(self._moves)
                and workflow.all_handlers_finished()
            )
        )
        pump.cancel()
        announcer.cancel()
        return self._result()

    def _result(self) -> RoundStatus:
        status = self.status()
        if not workflow.patched(QUIET_HISTORY):
            return status
        return status.model_copy(update={"minutes": [m.model_copy(update={"documents": {}}) for m in status.minutes]})

    async def _wait_for_new_minutes(self, versions: int) -> None:
        await workflow.wait_condition(lambda: len(self._minutes) > versions)

    # --- collecting inputs -------------------------------------------------------------

    def _complete_or_closed(self) -> bool:
        return self._close is not None or grid.is_complete(self._grid())

    async def _collect(self) -> None:
        n = self._input.number
        await self._notifier.send(
            NoticeKind.INPUT_REQUEST,
            self._notifier.counterparts(Role.TECHNICAL_LEAD),
            NoticeFacts(
                round_number=n,
                meeting_at=self._meeting_at,
                inputs_due=self._inputs_due,
                pillars=self._input.pillars,
                link=self._input_link(),
                calendar_sequence=len(self._moves),
            ),
        )
        since = workflow.now()
        offsets = self._declaration.reminder_offsets
        while True:
            due = self._inputs_due

            def interrupted(due: datetime = due) -> bool:
                return self._complete_or_closed() or self._inputs_due != due

            for event in rules.deadline_clock(due, offsets.days, since, self._input.calendar, offsets.count):
                if event.kind is ClockEventKind.ESCALATION:
                    summary = f"Round {n}: inputs due {fmt(due, self._notifier.tz)}"
                else:
                    summary = f"Round {n}: reminder {event.days_before} day(s) before inputs are due"
                if not await wait_until(event.at, interrupted, summary):
                    break
                if event.kind is ClockEventKind.REMINDER:
                    await self._remind_missing(event.days_before)
            # A reschedule moved the due date: plan the reminders again from now.
            if self._inputs_due == due or self._complete_or_closed():
                break
            since = workflow.now()
        reason, self._close_kind = rules.why_inputs_closed(self._close, grid.is_complete(self._grid()))
        self._inputs_closed_at = workflow.now()
        self._close_reason = reason

    async def _remind_missing(self, days_left: int) -> None:
        """Each party still missing something gets a reminder naming its own missing pillars."""
        current = self._grid()
        for party, row in current.items():
            missing = [p for p, revision in row.items() if not revision]
            if missing:
                await self._notifier.send(
                    NoticeKind.INPUT_REMINDER,
                    self._notifier.counterparts(Role.TECHNICAL_LEAD, [party]),
                    NoticeFacts(
                        round_number=self._input.number,
                        inputs_due=self._inputs_due,
                        meeting_at=self._meeting_at,
                        days_left=days_left,
                        pillars=missing,
                        missing=[f"{party}/{p.value}" for p in missing],
                        link=self._input_link(),
                    ),
                )

    def _input_link(self) -> LinkSpec:
        return LinkSpec(
            purpose=LinkPurpose.PILLAR_INPUT,
            workflow_id=workflow.info().workflow_id,
            consultation_id=self._declaration.id,
            round_number=self._input.number,
            expires_at=self._inputs_due + LINK_GRACE,
        )

    async def _write_minutes(self) -> None:
        d = self._declaration
        request = MinutesRequest(
            title=d.title,
            number=self._input.number,
            meeting_at=self._meeting_at,
            inputs_closed_at=self._inputs_closed_at or workflow.now(),
            close_reason=self._close_reason or "",
            close_kind=self._close_kind,
            closed_by=self._close[1] if self._close else None,
            early_reason=self._close[0] if self._close else None,
            utc_offset_minutes=offset_minutes(self._notifier.tz),
            parties={p.code: p.name for p in d.parties},
            pillars=self._input.pillars,
            inputs=[s.input for s in self._current()],
            missing=grid.missing(self._grid()),
            locales=d.document_locales,
        )
        documents = await workflow.execute_activity(
            render_minutes,
            request,
            start_to_close_timeout=timedelta(minutes=1),
            summary=f"Render the minutes of round {self._input.number}",
        )
        self._add_minutes(documents, issued_by="system")

    def _add_minutes(
        self, documents: dict[Locale, str], issued_by: str, annexes: list[FileRecord] | None = None
    ) -> None:
        self._minutes.append(next_version(self._minutes, documents, issued_by, workflow.now(), annexes))
        self._changed()

    # --- updates -------------------------------------------------------------------------

    @workflow.update
    def submit_input(self, request: SubmitInputRequest) -> SubmissionRecord:
        # The files it keeps of the cell's current input are copied into the new revision (none before annexes).
        request = rules.with_kept_files(request, self._current_in_cell(request))
        self._submissions, record = grid.with_submission(self._submissions, request, workflow.now())
        self._changed()
        return record

    @submit_input.validator
    def _validate_submit(self, request: SubmitInputRequest) -> None:
        refuse_unless(
            lambda: rules.check_submission(
                request,
                declaration=self._declaration,
                agenda=self._input.pillars,
                collecting=self._state is RoundState.COLLECTING and self._inputs_closed_at is None,
                round_number=self._input.number,
                current=self._current_in_cell(request),
            )
        )

    def _current_in_cell(self, request: SubmitInputRequest) -> SubmissionRecord | None:
        """The party's current input on the request's pillar, if it has one."""
        key = (request.input.party, request.input.pillar)
        return next((s for s in self._current() if (s.input.party, s.input.pillar) == key), None)

    @workflow.update
    def close(self, request: CloseRoundRequest) -> None:
        self._close = (request.reason.strip(), request.requested_by)

    @close.validator
    def _validate_close(self, request: CloseRoundRequest) -> None:
        refuse_unless(
            lambda: rules.check_close(
                request,
                declaration=self._declaration,
                already_closed=self._close is not None or self._inputs_closed_at is not None,
                round_number=self._input.number,
            )
        )

    @workflow.update
    def reschedule(self, request: RescheduleMeetingRequest) -> MeetingRescheduled:
        move = MeetingRescheduled(
            meeting_at=request.meeting_at,
            inputs_due=request.inputs_due or self._inputs_due,
            reason=request.reason.strip(),
            by=request.requested_by,
            at=workflow.now(),
            sequence=len(self._moves) + 1,
        )
        self._moves.append(move)
        self._meeting_at, self._inputs_due = move.meeting_at, move.inputs_due
        self._changed()
        return move

    @reschedule.validator
    def _validate_reschedule(self, request: RescheduleMeetingRequest) -> None:
        refuse_unless(
            lambda: rules.check_reschedule(
                request,
                declaration=self._declaration,
                state=self._state,
                collecting=self._state is RoundState.COLLECTING and self._inputs_closed_at is None,
                meeting_at=self._meeting_at,
                inputs_due=self._inputs_due,
                now=workflow.now(),
                round_number=self._input.number,
            )
        )

    async def _announce_moves(self) -> None:
        """Everyone gets each move as an invitation update: same UID, the move's SEQUENCE."""
        while True:
            await workflow.wait_condition(lambda: self._moves_announced < len(self._moves))
            move = self._moves[self._moves_announced]
            self._moves_announced += 1
            await self._notifier.send(
                NoticeKind.MEETING_RESCHEDULED,
                self._notifier.everyone(),
                NoticeFacts(
                    round_number=self._input.number,
                    meeting_at=move.meeting_at,
                    inputs_due=move.inputs_due,
                    reason=move.reason,
                    actor=move.by,
                    calendar_sequence=move.sequence,
                ),
            )

    @workflow.update
    def reissue_minutes(self, request: ReissueMinutesRequest) -> DocumentVersion:
        self._add_minutes(as_issued(request.documents), issued_by=request.requested_by, annexes=request.annexes)
        return self._minutes[-1]

    @reissue_minutes.validator
    def _validate_reissue(self, request: ReissueMinutesRequest) -> None:
        refuse_unless(
            lambda: rules.check_reissue_minutes(
                request, declaration=self._declaration, state=self._state, round_number=self._input.number
            )
        )

    def _awaiting_approval(self) -> ApprovalStep:
        if self._approval is None or self._state is not RoundState.MINUTES_APPROVAL:
            raise RequestRefused(
                f"the minutes of round {self._input.number} are not awaiting approval (round is {self._state.value})"
            )
        return self._approval

    def _decision_recorded(self, record: DecisionRecord) -> None:
        self._decisions.append(record)
        self._changed()

    # --- status and progress -------------------------------------------------------------

    @workflow.query
    def status(self) -> RoundStatus:
        current = self._grid()
        return RoundStatus(
            number=self._input.number,
            workflow_id=workflow.info().workflow_id,
            state=self._state,
            meeting_at=self._meeting_at,
            inputs_due=self._inputs_due,
            pillars=self._input.pillars,
            opened_by=self._input.opened_by,
            grid=current,
            missing=grid.missing(current),
            submissions=list(self._submissions),
            inputs_closed_at=self._inputs_closed_at,
            close_reason=self._close_reason,
            minutes=list(self._minutes),
            approval=self._approval.state() if self._approval else None,
            decisions=list(self._decisions),
            closed_at=self._closed_at,
            notices=list(self._notifier.records),
            reschedules=list(self._moves),
        )

    @workflow.query
    def declaration(self) -> Declaration:
        """Who is who (names, roles, languages): what the gateway needs to address a page to its reader."""
        return self._declaration

    def _current(self) -> list[SubmissionRecord]:
        return [s for s in self._submissions if s.superseded_at is None]

    def _grid(self) -> Grid:
        return grid.build_grid([p.code for p in self._declaration.parties], self._input.pillars, self._current())

    def _progress(self) -> RoundProgress:
        minutes = self._minutes[-1] if self._minutes else None
        approval = self._approval.state() if self._approval else None
        moved = self._input.model_copy(update={"meeting_at": self._meeting_at, "inputs_due": self._inputs_due})
        progress = views.round_progress(moved, self._state, self._grid(), minutes, approval)
        return progress.model_copy(
            update={
                "meeting_at": self._meeting_at,
                "inputs_due": self._inputs_due,
                "meeting_sequence": len(self._moves),
            }
        )

    def _changed(self) -> None:
        self._progress_dirty = True
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        return views.round_details(
            self._input.number, self._state, self._grid(), self._minutes[-1] if self._minutes else None
        )

    async def _push_progress(self) -> None:
        """Keeps the consultation's view of this round current, one signal per change burst."""
        parent = workflow.info().parent
        while True:
            await workflow.wait_condition(lambda: self._progress_dirty)
            self._progress_dirty = False
            if parent is None:
                continue
            progress = self._progress()
            significant = views.significant_progress(progress)
            if self._progress_sent is None and workflow.patched(QUIET_HISTORY):
                # What the consultation recorded when it opened the round: a change since then is still sent.
                self._progress_sent = self._opening
            if significant == self._progress_sent and workflow.patched(QUIET_HISTORY):
                continue
            self._progress_sent = significant
            self._progress_sending = True
            try:
                handle = workflow.get_external_workflow_handle(parent.workflow_id)
                await handle.signal(ROUND_PROGRESS_SIGNAL, progress)
            except Exception:
                # The consultation may have ended (withdrawn); the round's own record stands.
                workflow.logger.warning("round progress could not reach the consultation")
            finally:
                self._progress_sending = False

"""Pure rules of the consultation: deadline arithmetic and operator-request checks.

Plain functions of their arguments (the workflow passes `workflow.now()` in), so
they are unit-tested without Temporal and are deterministic by construction.
Each check raises `RequestRefused` with a message written for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from infra.formatting import display_tz, fmt
from schemas.annexes import MAX_FILES, FileRecord
from schemas.consultation import (
    ExtendDeadlineRequest,
    OpenRoundRequest,
    Stage,
    StartDraftingRequest,
    SubmitDraftRequest,
    WithdrawRequest,
)
from schemas.declaration import Declaration, Locale, Pillar, Role
from schemas.documents import MAX_DOCUMENT_BYTES
from schemas.pillar_inputs import Channel, SubmissionRecord
from schemas.rounds import (
    CloseRoundRequest,
    ReissueMinutesRequest,
    RescheduleMeetingRequest,
    RoundState,
    SubmitInputRequest,
)
from schemas.working_days import Count, WorkingCalendar, subtract

CloseKind = Literal["complete", "due", "early"]


class RequestRefused(ValueError):
    """An operator request that must not be recorded, with the reason why."""


class ClockEventKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class ClockEvent:
    kind: ClockEventKind
    at: datetime
    days_before: int = 0


def deadline_clock(
    deadline: datetime,
    reminder_days_before: list[int],
    since: datetime,
    calendar: WorkingCalendar | None = None,
    count: Count = Count.CALENDAR_DAYS,
) -> list[ClockEvent]:
    """Reminders still ahead of `since`, then the escalation at the deadline.

    Reminders whose moment had already passed when the clock was (re)set are
    skipped rather than sent late; the escalation is always kept, so a
    deadline already in the past escalates at once. Reminder offsets count
    `count` days in `calendar` (calendar days when there is none).
    """
    moments = ((days, subtract(calendar, deadline, days, count)) for days in sorted(reminder_days_before, reverse=True))
    reminders = [ClockEvent(ClockEventKind.REMINDER, at, days) for days, at in moments if at > since]
    return [*reminders, ClockEvent(ClockEventKind.ESCALATION, deadline)]


def check_operator(declaration: Declaration, who: str) -> None:
    operators = [o.email for o in declaration.operators]
    if who not in operators:
        raise RequestRefused(
            f"{who or '(nobody)'} is not an operator of this consultation; operators: {', '.join(operators)}"
        )


def _check_open(stage: Stage) -> None:
    if stage.is_final:
        raise RequestRefused(f"the consultation is {stage.value}; nothing more can be recorded")


def check_open_round(
    request: OpenRoundRequest,
    *,
    declaration: Declaration,
    stage: Stage,
    deadline: datetime,
    now: datetime,
    open_round: int | None = None,
) -> None:
    """Round 1 must meet within the first-round deadline; later rounds only need future dates."""
    _check_open(stage)
    check_operator(declaration, request.requested_by)
    tz = display_tz(declaration.signed_at)
    if stage not in (Stage.DECLARED, Stage.TECHNICAL_ROUNDS):
        raise RequestRefused(f"rounds can no longer be opened (stage {stage.value})")
    if open_round is not None:
        raise RequestRefused(f"round {open_round} is still open; only one round at a time")
    if request.meeting_at <= now:
        raise RequestRefused(f"the meeting ({fmt(request.meeting_at, tz)}) is in the past")
    if request.inputs_due <= now:
        raise RequestRefused(f"the inputs due date ({fmt(request.inputs_due, tz)}) is in the past")
    if request.inputs_due > request.meeting_at:
        raise RequestRefused(
            f"inputs must be due before the meeting: inputs due {fmt(request.inputs_due, tz)}, "
            f"meeting {fmt(request.meeting_at, tz)}"
        )
    if stage is Stage.DECLARED and request.meeting_at > deadline:
        raise RequestRefused(
            f"the meeting ({fmt(request.meeting_at, tz)}) is after the first-round deadline "
            f"({fmt(deadline, tz)}); extend the deadline first"
        )
    if request.pillars is not None:
        unknown = [p.value for p in request.pillars if p not in declaration.pillars]
        if unknown:
            raise RequestRefused(
                f"pillar(s) {', '.join(unknown)} are not in the declaration "
                f"({', '.join(p.value for p in declaration.pillars)})"
            )
        if not request.pillars:
            raise RequestRefused("a round needs at least one pillar")
        if len(set(request.pillars)) != len(request.pillars):
            raise RequestRefused("a pillar is listed twice on the agenda")


def check_extend(
    request: ExtendDeadlineRequest,
    *,
    declaration: Declaration,
    stage: Stage,
    deadline: datetime,
    now: datetime,
) -> None:
    _check_open(stage)
    check_operator(declaration, request.requested_by)
    tz = display_tz(declaration.signed_at)
    if stage is not Stage.DECLARED:
        raise RequestRefused(f"the first round is already open (stage {stage.value}); there is no deadline to extend")
    if not request.reason.strip():
        raise RequestRefused("an extension needs a reason")
    if request.until == deadline:  # the same extension again (repeated after a timeout, say)
        raise RequestRefused(f"the deadline is already {fmt(deadline, tz)}; nothing to extend")
    if request.until < deadline:
        raise RequestRefused(
            f"the new deadline ({fmt(request.until, tz)}) must be later than the current one ({fmt(deadline, tz)})"
        )
    if request.until <= now:
        raise RequestRefused(f"the new deadline ({fmt(request.until, tz)}) is in the past")


def check_withdraw(request: WithdrawRequest, *, declaration: Declaration, stage: Stage) -> None:
    _check_open(stage)
    check_operator(declaration, request.requested_by)
    if not request.reason.strip():
        raise RequestRefused("a withdrawal needs a reason")


def check_start_drafting(
    request: StartDraftingRequest, *, declaration: Declaration, stage: Stage, open_round: int | None, closed_rounds: int
) -> None:
    _check_open(stage)
    check_operator(declaration, request.requested_by)
    if stage is not Stage.TECHNICAL_ROUNDS:
        raise RequestRefused(f"drafting starts after the technical rounds (stage {stage.value})")
    if open_round is not None:
        raise RequestRefused(f"round {open_round} is still open; close it and approve its minutes first")
    if closed_rounds == 0:
        raise RequestRefused("no round has been closed yet")


def check_document(documents: dict[Locale, str], name: str, *, plural: bool = False) -> None:
    """A document an operator issues (a draft, edited minutes): not empty, and small enough for history."""
    be = "are" if plural else "is"
    if not documents or any(not text.strip() for text in documents.values()):
        raise RequestRefused(f"{name} {be} empty")
    size = sum(len(text.encode("utf-8")) for text in documents.values())
    if size > MAX_DOCUMENT_BYTES:
        raise RequestRefused(f"{name} {be} {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")


def check_submit_draft(request: SubmitDraftRequest, *, declaration: Declaration, stage: Stage) -> None:
    check_operator(declaration, request.requested_by)
    if stage is not Stage.DRAFTING_AGREEMENT:
        raise RequestRefused(
            f"drafts are submitted while drafting the agreement (stage {stage.value}); "
            + ("the current draft awaits the parties' decisions" if stage is Stage.AWAITING_APPROVAL else "")
        )
    check_document(request.documents, "the draft")
    check_annexes(request.annexes, "the draft")


def check_close(
    request: CloseRoundRequest, *, declaration: Declaration, already_closed: bool, round_number: int
) -> None:
    check_operator(declaration, request.requested_by)
    if already_closed:
        raise RequestRefused(f"round {round_number} is already closed for inputs")
    if not request.reason.strip():
        raise RequestRefused("closing a round early needs a reason")


def check_reschedule(
    request: RescheduleMeetingRequest,
    *,
    declaration: Declaration,
    state: RoundState,
    collecting: bool,
    meeting_at: datetime,
    inputs_due: datetime,
    now: datetime,
    round_number: int,
) -> None:
    """A meeting moves to the future, with a reason; inputs' due date moves only while they are collected."""
    check_operator(declaration, request.requested_by)
    if state is RoundState.CLOSED:
        raise RequestRefused(f"round {round_number} is closed; its meeting cannot move")
    if not request.reason.strip():
        raise RequestRefused("moving a meeting needs a reason")
    tz = display_tz(declaration.signed_at)
    if request.meeting_at <= now:
        raise RequestRefused(f"the meeting must be in the future (now is {fmt(now, tz)})")
    if request.inputs_due is not None:
        if not collecting:
            raise RequestRefused(f"round {round_number} no longer takes inputs; only its meeting can move")
        if request.inputs_due <= now:
            raise RequestRefused(f"inputs must be due in the future (now is {fmt(now, tz)})")
    due = request.inputs_due or inputs_due
    if collecting and due > request.meeting_at:
        raise RequestRefused(
            f"inputs are due {fmt(due, tz)}, after the meeting ({fmt(request.meeting_at, tz)}); move them too"
        )
    if request.meeting_at == meeting_at and due == inputs_due:
        raise RequestRefused(f"round {round_number}'s meeting is already at {fmt(meeting_at, tz)}")


def why_inputs_closed(early: tuple[str, str] | None, complete: bool) -> tuple[str, CloseKind]:
    """Why a round stopped taking inputs, for its minutes: closed early (reason, by), complete, or due."""
    if early is not None:
        return f"closed early by {early[1]}: {early[0]}", "early"
    if complete:
        return "every party submitted every pillar", "complete"
    return "inputs due date reached", "due"


def check_reissue_minutes(
    request: ReissueMinutesRequest, *, declaration: Declaration, state: RoundState, round_number: int
) -> None:
    check_operator(declaration, request.requested_by)
    if state is not RoundState.CHANGES_REQUESTED:
        raise RequestRefused(
            f"the minutes of round {round_number} can be re-issued only after changes were "
            f"requested (round is {state.value})"
        )
    check_document(request.documents, "the minutes", plural=True)
    check_annexes(request.annexes, "the minutes")


def check_annexes(files: list[FileRecord], what: str) -> None:
    """A document's (or an input's) files: each once, and no more than a version may carry."""
    seen: dict[str, str] = {}
    for f in files:
        if f.sha256 in seen:
            if seen[f.sha256] == f.name:
                raise RequestRefused(f"{f.name} is attached twice to {what} (SHA-256 {f.sha256})")
            raise RequestRefused(
                f"{f.name} is the same file as {seen[f.sha256]} (SHA-256 {f.sha256}): attach it once to {what}"
            )
        seen[f.sha256] = f.name
    if len(files) > MAX_FILES:
        raise RequestRefused(f"{what} would carry {len(files)} files; the limit is {MAX_FILES}")


def kept_files(current: SubmissionRecord | None, keep: list[str]) -> list[FileRecord]:
    """The files of the cell's current input that a resubmission keeps (`keep`, by SHA-256), in their order;
    RequestRefused naming any SHA-256 that is not one of them."""
    earlier = current.input.attachments if current is not None else []
    known = {f.sha256 for f in earlier}
    unknown = [sha for sha in dict.fromkeys(keep) if sha not in known]
    if unknown:
        if current is None:
            raise RequestRefused(f"there is no earlier input to keep files from (SHA-256 {', '.join(unknown)})")
        cell = f"{current.input.party}/{current.input.pillar.value} revision {current.revision}"
        names = ", ".join(f"{f.name} ({f.sha256[:12]}…)" for f in earlier) or "none"
        raise RequestRefused(f"no file with SHA-256 {', '.join(unknown)} is attached to {cell} (its files: {names})")
    wanted = set(keep)
    return [f for f in earlier if f.sha256 in wanted]


def with_kept_files(request: SubmitInputRequest, current: SubmissionRecord | None) -> SubmitInputRequest:
    """The request as recorded: its input's files are the kept ones first, then the newly attached ones."""
    if not request.keep:
        return request
    attachments = [*kept_files(current, request.keep), *request.input.attachments]
    return request.model_copy(update={"input": request.input.model_copy(update={"attachments": attachments})})


def check_submission(
    request: SubmitInputRequest,
    *,
    declaration: Declaration,
    agenda: list[Pillar],
    collecting: bool,
    round_number: int,
    current: SubmissionRecord | None = None,
) -> None:
    submitted = request.input
    if not collecting:
        raise RequestRefused(f"round {round_number} is closed for inputs")
    party = declaration.party(submitted.party)
    if party is None:
        codes = ", ".join(p.code for p in declaration.parties)
        raise RequestRefused(f"party {submitted.party} is not in this consultation (parties: {codes})")
    if submitted.pillar not in agenda:
        raise RequestRefused(
            f"pillar {submitted.pillar.value} is not on the agenda of round {round_number} "
            f"(agenda: {', '.join(p.value for p in agenda)})"
        )
    leads = [c.email for c in party.with_role(Role.TECHNICAL_LEAD)]
    if submitted.author not in leads:
        raise RequestRefused(
            f"{submitted.author} is not a technical lead of party {party.code} (technical leads: {', '.join(leads)})"
        )
    if request.channel is Channel.OPERATOR:
        check_operator(declaration, request.submitted_by)
    elif request.submitted_by != submitted.author:
        raise RequestRefused("an input sent through a link must be submitted by its author")
    cell = f"the input of {submitted.party}/{submitted.pillar.value}"
    recorded = with_kept_files(request, current).input
    check_annexes(recorded.attachments, cell)
    if current is not None and recorded == current.input:
        # The same input sent again (a command repeated after a timeout, say): one revision, not two. The same
        # text as an earlier revision that is no longer current is a change back, and is recorded.
        raise RequestRefused(f"{cell} is already this one (revision {current.revision}); nothing new to record")

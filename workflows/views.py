"""What a consultation and its rounds show of themselves, as pure functions of their state.

The readouts the status query and the validators share (the open round, overdue, the
next deadline), the search attributes, and the words of the Temporal UI: summaries,
static and current details. No Temporal calls here, so all of it is unit-tested without
a server; the workflows make the calls (`upsert_search_attributes`, `set_current_details`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from temporalio.common import SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes

from infra.formatting import display_tz, fmt, fmt_counted
from schemas import search_attributes as sa
from schemas.approvals import ApprovalState
from schemas.consultation import ConsultationInput, Extension, RoundRecord, Stage, Withdrawal
from schemas.declaration import Declaration
from schemas.documents import DocumentVersion
from schemas.rounds import Grid, RoundInput, RoundProgress, RoundState, RoundStatus
from schemas.working_days import WorkingCalendar
from workflows import grid

# --- a consultation ----------------------------------------------------------------------


def initial_search_attributes(input: ConsultationInput) -> TypedSearchAttributes:
    """Set at start, so the consultation is findable before its first task runs."""
    d = input.declaration
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.STAGE, Stage.DECLARED.value),
            SearchAttributePair(sa.PARTIES, [p.code for p in d.parties]),
            SearchAttributePair(sa.OVERDUE, False),
            SearchAttributePair(sa.NEXT_DEADLINE, input.first_round_deadline),
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
        f"- First round within {d.first_round_within_days} days: by {fmt(d.first_round_deadline, tz)}"
        if input.first_round_counting is None
        else f"- First round: {fmt_counted(input.first_round_deadline, input.first_round_counting, tz)}",
        f"- Parties: {', '.join(f'{p.name} ({p.code}, approval: {p.approval.value})' for p in d.parties)}",
        f"- Pillars: {', '.join(p.value for p in d.pillars)}",
        f"- Operators: {', '.join(o.email for o in d.operators)}",
    ]
    return "\n".join(lines)


def open_round_number(rounds: list[RoundRecord]) -> int | None:
    last = rounds[-1] if rounds else None
    return last.number if last and last.state is not RoundState.CLOSED else None


def is_overdue(
    stage: Stage, first_round_overdue: bool, rounds: list[RoundRecord], approval: ApprovalState | None
) -> bool:
    if stage is Stage.DECLARED:
        return first_round_overdue
    if stage is Stage.AWAITING_APPROVAL and approval is not None:
        return approval.overdue
    open_number = open_round_number(rounds)
    return bool(open_number and rounds[open_number - 1].overdue and not stage.is_final)


def next_deadline(
    stage: Stage, first_round_deadline: datetime, rounds: list[RoundRecord], approval: ApprovalState | None
) -> datetime | None:
    if stage is Stage.DECLARED:
        return first_round_deadline
    open_number = open_round_number(rounds)
    if stage is Stage.TECHNICAL_ROUNDS and open_number:
        return rounds[open_number - 1].next_deadline
    if stage is Stage.AWAITING_APPROVAL and approval is not None:
        return approval.deadline
    return None


def search_attributes(
    stage: Stage, overdue: bool, deadline: datetime | None, open_round: int | None
) -> list[SearchAttributeUpdate[Any]]:
    """Every attribute, set or unset, so a search never finds a stale value."""
    return [
        sa.STAGE.value_set(stage.value),
        sa.OVERDUE.value_set(overdue),
        sa.NEXT_DEADLINE.value_set(deadline) if deadline else sa.NEXT_DEADLINE.value_unset(),
        sa.ROUND.value_set(open_round) if open_round and not stage.is_final else sa.ROUND.value_unset(),
    ]


def current_details(
    *,
    stage: Stage,
    overdue: bool,
    first_round_deadline: datetime,
    rounds: list[RoundRecord],
    extensions: list[Extension],
    drafts: list[DocumentVersion],
    approval: ApprovalState | None,
    withdrawal: Withdrawal | None,
    tz: timezone,
) -> str:
    """The consultation as the Temporal UI shows it now (Markdown): stage, rounds, the open grid, the draft."""
    open_number = open_round_number(rounds)
    lines = [f"**Stage:** {stage.value}" + (" — **OVERDUE**" if overdue else "")]
    if stage is Stage.DECLARED:
        lines.append(f"**First round due by:** {fmt(first_round_deadline, tz)}")
    for r in rounds:
        line = (
            f"**Round {r.number}** ({r.state.value}): meeting {fmt(r.meeting_at, tz)}, "
            f"inputs due {fmt(r.inputs_due, tz)}"
        )
        if r.minutes_sha256:
            line += f"; minutes v{r.minutes_version} `{r.minutes_sha256[:12]}…`"
        lines.append(line)
        if r.number == open_number:
            if r.state is RoundState.COLLECTING:
                # Inputs reach the consultation with the round's next change of state; the round shows them live.
                lines.append(f"Inputs as last reported; live in the round's own workflow `{r.workflow_id}`:")
            lines.append(grid.grid_markdown(r.grid))
    for e in extensions:
        lines.append(f"Extended to {fmt(e.new_deadline, tz)} by {e.by}: {e.reason}")
    if drafts:
        d = drafts[-1]
        lines.append(f"**Agreement draft v{d.version}** `{d.sha256[:12]}…`")
        if approval is not None and approval.version == d.version:
            lines.append(f"Decisions: {', '.join(f'{code}: {o.value}' for code, o in approval.parties.items())}")
    if withdrawal:
        lines.append(f"Withdrawn by {withdrawal.by}: {withdrawal.reason}")
    return "\n\n".join(lines)


# --- a round -----------------------------------------------------------------------------


def round_input(declaration: Declaration, record: RoundRecord, calendar: WorkingCalendar | None = None) -> RoundInput:
    return RoundInput(
        calendar=calendar,
        declaration=declaration,
        number=record.number,
        meeting_at=record.meeting_at,
        inputs_due=record.inputs_due,
        pillars=record.pillars,
        opened_by=record.opened_by,
    )


def round_static_summary(consultation_id: str, record: RoundRecord) -> str:
    return f"Round {record.number} of {consultation_id}: {', '.join(p.value for p in record.pillars)}"


def round_static_details(record: RoundRecord, tz: timezone) -> str:
    return (
        f"Meeting {fmt(record.meeting_at, tz)}; inputs due {fmt(record.inputs_due, tz)}; opened by {record.opened_by}"
    )


def progress_update(progress: RoundProgress) -> dict[str, object]:
    """What a round's progress changes in the consultation's record of it.

    Progress sent before meetings could move says nothing of the meeting (None): the record keeps its own.
    """
    update = progress.model_dump(exclude={"number"})
    for key in ("meeting_at", "inputs_due", "meeting_sequence"):
        if update[key] is None:
            del update[key]
    return update


def meeting_cancellation(rounds: list[RoundRecord]) -> dict[str, object]:
    """Notice facts that cancel the open round's meeting and inputs due (one more SEQUENCE than their last update)."""
    open_ = [r for r in rounds if r.state is not RoundState.CLOSED]
    if not open_:
        return {}
    r = open_[-1]
    return {
        "round_number": r.number,
        "meeting_at": r.meeting_at,
        # While inputs are collected, their due date is in calendars too: cancelled with the meeting.
        "inputs_due": r.inputs_due if r.state is RoundState.COLLECTING else None,
        "meeting_cancelled": True,
        "calendar_sequence": r.meeting_sequence + 1,
    }


def final_progress(status: RoundStatus) -> RoundProgress:
    """What a finished round reports to its consultation (from its result, should a signal have been lost)."""
    minutes = status.minutes[-1] if status.minutes else None
    return RoundProgress(
        number=status.number,
        state=status.state,
        grid=status.grid,
        missing=status.missing,
        minutes_version=minutes.version if minutes else None,
        minutes_sha256=minutes.sha256 if minutes else None,
        meeting_at=status.meeting_at,
        inputs_due=status.inputs_due,
        meeting_sequence=len(status.reschedules),
    )


def round_progress(
    input: RoundInput,
    state: RoundState,
    current: Grid,
    minutes: DocumentVersion | None,
    approval: ApprovalState | None,
) -> RoundProgress:
    """What a round reports to its consultation: its state, grid, minutes, and what it waits for next."""
    awaited = approval if state is RoundState.MINUTES_APPROVAL else None
    if state is RoundState.COLLECTING:
        deadline: datetime | None = input.inputs_due
    else:
        deadline = awaited.deadline if awaited else None
    return RoundProgress(
        number=input.number,
        state=state,
        grid=current,
        missing=grid.missing(current),
        minutes_version=minutes.version if minutes else None,
        minutes_sha256=minutes.sha256 if minutes else None,
        next_deadline=deadline,
        overdue=bool(awaited and awaited.overdue),
    )


def significant_progress(progress: RoundProgress) -> dict[str, object]:
    """What of a round's progress its consultation must hear of at once: all but the grid of inputs."""
    return progress.model_dump(exclude={"grid", "missing"})


def round_details(number: int, state: RoundState, current: Grid, minutes: DocumentVersion | None) -> str:
    lines = [f"**Round {number}** — {state.value}", grid.grid_markdown(current)]
    if minutes:
        lines.append(f"Minutes v{minutes.version}, SHA-256 `{minutes.sha256}`")
    return "\n\n".join(lines)

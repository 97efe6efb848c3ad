"""The pure rules behind the clock and the operator requests, without Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.consultation import ExtendDeadlineRequest, OpenRoundRequest, Stage, WithdrawRequest
from schemas.declaration import Pillar
from schemas.pillar_inputs import Channel, SubmissionRecord
from schemas.rounds import SubmitInputRequest
from tests.helpers import CL_LEAD, CL_OPERATOR, make_declaration, submission
from workflows import rules
from workflows.rules import ClockEventKind, RequestRefused

SIGNED = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_clock_for_a_fresh_15_day_deadline() -> None:
    plan = rules.deadline_clock(SIGNED + 15 * DAY, [7, 3, 1], since=SIGNED)
    assert [(e.kind, (e.at - SIGNED) / DAY) for e in plan] == [
        (ClockEventKind.REMINDER, 8),
        (ClockEventKind.REMINDER, 12),
        (ClockEventKind.REMINDER, 14),
        (ClockEventKind.ESCALATION, 15),
    ]


def test_clock_skips_reminders_already_past_but_keeps_the_escalation() -> None:
    plan = rules.deadline_clock(SIGNED + 15 * DAY, [7, 3, 1], since=SIGNED + 10 * DAY)
    assert [(e.at - SIGNED) / DAY for e in plan] == [12, 14, 15]
    overdue = rules.deadline_clock(SIGNED + 15 * DAY, [7, 3, 1], since=SIGNED + 20 * DAY)
    assert [e.kind for e in overdue] == [ClockEventKind.ESCALATION]


@given(
    days=st.integers(min_value=1, max_value=60),
    reminders=st.sets(st.integers(min_value=1, max_value=59), max_size=5),
    started=st.integers(min_value=-30, max_value=90),
)
def test_clock_is_ordered_and_ends_with_the_escalation(days: int, reminders: set[int], started: int) -> None:
    deadline = SIGNED + days * DAY
    plan = rules.deadline_clock(deadline, sorted(reminders), since=SIGNED + started * DAY)
    assert [e.at for e in plan] == sorted(e.at for e in plan)
    assert plan[-1].kind is ClockEventKind.ESCALATION and plan[-1].at == deadline
    assert all(e.at > SIGNED + started * DAY for e in plan[:-1])


def _open(**changes: object) -> OpenRoundRequest:
    fields: dict[str, object] = {
        "meeting_at": SIGNED + 10 * DAY,
        "inputs_due": SIGNED + 8 * DAY,
        "requested_by": CL_OPERATOR,
    }
    fields.update(changes)
    return OpenRoundRequest.model_validate(fields)


def _check_open(request: OpenRoundRequest, stage: Stage = Stage.DECLARED, deadline_days: int = 15) -> None:
    declaration = make_declaration(SIGNED, pillars=["supply_chain", "recycling"])
    rules.check_open_round(
        request, declaration=declaration, stage=stage, deadline=SIGNED + deadline_days * DAY, now=SIGNED + DAY
    )


def test_a_good_round_is_accepted_even_on_the_deadline_and_from_an_uppercased_operator() -> None:
    _check_open(_open(meeting_at=SIGNED + 15 * DAY, requested_by=CL_OPERATOR.upper()))


@pytest.mark.parametrize(
    ("request_", "stage", "message"),
    [
        (_open(meeting_at=SIGNED + 16 * DAY), Stage.DECLARED, "after the first-round deadline"),
        (_open(inputs_due=SIGNED + 11 * DAY), Stage.DECLARED, "inputs must be due before the meeting"),
        (_open(meeting_at=SIGNED, inputs_due=SIGNED - DAY), Stage.DECLARED, "is in the past"),
        (_open(requested_by="mturner@state.example"), Stage.DECLARED, "is not an operator"),
        (_open(pillars=[Pillar.FINANCING]), Stage.DECLARED, "pillar(s) financing are not in the declaration"),
        (_open(pillars=[]), Stage.DECLARED, "at least one pillar"),
        (_open(pillars=[Pillar.RECYCLING, Pillar.RECYCLING]), Stage.DECLARED, "listed twice"),
        (_open(), Stage.WITHDRAWN, "the consultation is withdrawn"),
    ],
)
def test_round_refusals_say_why(request_: OpenRoundRequest, stage: Stage, message: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        _check_open(request_, stage)
    assert message in str(refused.value)


def test_one_round_at_a_time_and_later_rounds_may_meet_after_the_first_deadline() -> None:
    declaration = make_declaration(SIGNED)
    later = _open(meeting_at=SIGNED + 40 * DAY, inputs_due=SIGNED + 35 * DAY)
    now = SIGNED + 30 * DAY
    deadline = SIGNED + 15 * DAY
    with pytest.raises(RequestRefused, match="round 1 is still open; only one round at a time"):
        rules.check_open_round(
            later, declaration=declaration, stage=Stage.TECHNICAL_ROUNDS, deadline=deadline, now=now, open_round=1
        )
    rules.check_open_round(later, declaration=declaration, stage=Stage.TECHNICAL_ROUNDS, deadline=deadline, now=now)
    with pytest.raises(RequestRefused, match="after the first-round deadline"):
        rules.check_open_round(later, declaration=declaration, stage=Stage.DECLARED, deadline=deadline, now=now)


def test_the_deadline_message_shows_dates_in_the_declarations_zone() -> None:
    declaration = make_declaration(datetime.fromisoformat("2026-11-27T10:00:00-03:00"))
    with pytest.raises(RequestRefused) as refused:
        rules.check_open_round(
            _open(meeting_at=datetime.fromisoformat("2026-12-13T12:00:00+00:00")),
            declaration=declaration,
            stage=Stage.DECLARED,
            deadline=declaration.first_round_deadline,
            now=declaration.signed_at,
        )
    assert "(2026-12-13 09:00 -0300) is after the first-round deadline (2026-12-12 10:00 -0300)" in str(refused.value)


@pytest.mark.parametrize(
    ("until_days", "reason", "stage", "message"),
    [
        (14, "agendas", Stage.DECLARED, "must be later than the current one"),
        (15, "agendas", Stage.DECLARED, "the deadline is already .*; nothing to extend"),
        (20, " ", Stage.DECLARED, "needs a reason"),
        (20, "agendas", Stage.TECHNICAL_ROUNDS, "no deadline to extend"),
    ],
)
def test_extension_refusals(until_days: int, reason: str, stage: Stage, message: str) -> None:
    request = ExtendDeadlineRequest(until=SIGNED + until_days * DAY, reason=reason, requested_by=CL_OPERATOR)
    with pytest.raises(RequestRefused, match=message):
        rules.check_extend(
            request, declaration=make_declaration(SIGNED), stage=stage, deadline=SIGNED + 15 * DAY, now=SIGNED
        )


def test_extension_after_an_overdue_deadline_must_lie_in_the_future() -> None:
    request = ExtendDeadlineRequest(until=SIGNED + 18 * DAY, reason="late", requested_by=CL_OPERATOR)
    with pytest.raises(RequestRefused, match="is in the past"):
        rules.check_extend(
            request,
            declaration=make_declaration(SIGNED),
            stage=Stage.DECLARED,
            deadline=SIGNED + 15 * DAY,
            now=SIGNED + 20 * DAY,
        )


def test_withdrawal_needs_an_operator_and_a_reason() -> None:
    declaration = make_declaration(SIGNED)
    rules.check_withdraw(
        WithdrawRequest(reason="x", requested_by=CL_OPERATOR), declaration=declaration, stage=Stage.DECLARED
    )
    with pytest.raises(RequestRefused, match="needs a reason"):
        rules.check_withdraw(
            WithdrawRequest(reason=" ", requested_by=CL_OPERATOR), declaration=declaration, stage=Stage.DECLARED
        )
    with pytest.raises(RequestRefused, match="not an operator"):
        rules.check_withdraw(
            WithdrawRequest(reason="x", requested_by="a@b.example"), declaration=declaration, stage=Stage.DECLARED
        )


def test_an_input_the_same_as_the_current_one_is_refused_and_one_changed_back_is_not() -> None:
    """The same input again (a command repeated after a timeout) records no second revision; the text of an
    earlier revision, once another is current, is a change back."""
    first, revised = submission("CL", Pillar.FINANCING, CL_LEAD), submission("CL", Pillar.FINANCING, CL_LEAD, "New")

    def check(request: SubmitInputRequest, current: SubmitInputRequest, revision: int) -> None:
        record = SubmissionRecord(
            revision=revision,
            input=current.input,
            submitted_by=CL_OPERATOR,
            channel=Channel.OPERATOR,
            submitted_at=SIGNED,
        )
        rules.check_submission(
            request,
            declaration=make_declaration(SIGNED),
            agenda=[Pillar.FINANCING],
            collecting=True,
            round_number=1,
            current=record,
        )

    with pytest.raises(RequestRefused, match=r"the input of CL/financing is already this one \(revision 2\)"):
        check(first, first, 2)
    check(first, revised, 2)  # back to the first text: accepted
    check(revised, first, 1)

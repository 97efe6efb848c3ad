"""The pure helpers the workflows lean on, without Temporal: what a consultation shows of itself,
resubmissions, why a round stopped taking inputs, document checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas.approvals import ApprovalState, Outcome
from schemas.consultation import RoundRecord, Stage
from schemas.declaration import Locale, Pillar
from schemas.documents import as_issued, next_version
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import RoundState, SubmitInputRequest
from workflows import grid, rules, views

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def round_record(state: RoundState = RoundState.COLLECTING, overdue: bool = False) -> RoundRecord:
    return RoundRecord(
        number=1,
        meeting_at=NOW + 10 * DAY,
        inputs_due=NOW + 8 * DAY,
        pillars=[Pillar.FINANCING],
        opened_by="op@x.example",
        opened_at=NOW,
        state=state,
        grid={"CL": {Pillar.FINANCING: 0}},
        next_deadline=NOW + 8 * DAY,
        overdue=overdue,
    )


def approval(overdue: bool) -> ApprovalState:
    return ApprovalState(
        subject="agreement draft",
        version=2,
        sha256="a" * 64,
        deadline=NOW + 14 * DAY,
        overdue=overdue,
        outcome=Outcome.PENDING,
        parties={"CL": Outcome.APPROVED, "US": Outcome.PENDING},
        decisions=[],
    )


def test_the_open_round_its_deadline_and_overdue_follow_the_stage() -> None:
    open_round, closed = [round_record(overdue=True)], [round_record(RoundState.CLOSED, overdue=True)]
    assert views.open_round_number(open_round) == 1 and views.open_round_number(closed) is None
    assert views.is_overdue(Stage.DECLARED, True, [], None)
    assert views.is_overdue(Stage.TECHNICAL_ROUNDS, False, open_round, None)
    assert not views.is_overdue(Stage.TECHNICAL_ROUNDS, False, closed, None)
    assert views.is_overdue(Stage.AWAITING_APPROVAL, False, closed, approval(overdue=True))
    assert views.next_deadline(Stage.DECLARED, NOW, [], None) == NOW
    assert views.next_deadline(Stage.TECHNICAL_ROUNDS, NOW, open_round, None) == NOW + 8 * DAY
    assert views.next_deadline(Stage.AWAITING_APPROVAL, NOW, closed, approval(False)) == NOW + 14 * DAY
    assert views.next_deadline(Stage.CONCLUDED, NOW, closed, approval(False)) is None


def test_current_details_show_the_open_grid_and_the_decisions_on_the_current_draft() -> None:
    draft = next_version([], as_issued({Locale.EN: "  # Agreement  "}), "op@x.example", NOW)
    second = next_version([draft], {Locale.EN: "# Agreement v2\n"}, "op@x.example", NOW)
    text = views.current_details(
        stage=Stage.AWAITING_APPROVAL,
        overdue=False,
        first_round_deadline=NOW,
        rounds=[round_record()],
        extensions=[],
        drafts=[draft, second],
        approval=approval(False),
        withdrawal=None,
        tz=timezone(timedelta(hours=-3)),
    )
    assert draft.documents == {Locale.EN: "# Agreement\n"} and (draft.version, second.version) == (1, 2)
    assert "**Round 1** (collecting): meeting 2026-12-11 09:00 -0300" in text
    assert "| CL | —" in text
    assert f"**Agreement draft v2** `{second.sha256[:12]}…`" in text
    assert "Decisions: CL: approved, US: pending" in text


def test_a_resubmission_supersedes_the_current_revision_and_keeps_it() -> None:
    def request(summary: str) -> SubmitInputRequest:
        item = {"party": "CL", "pillar": "financing", "author": "a@b.example", "summary": summary}
        return SubmitInputRequest(input=PILLAR_INPUT.validate_python(item), submitted_by="op@x.example")

    first, one = grid.with_submission([], request("first"), NOW)
    second, two = grid.with_submission(first, request("second"), NOW + DAY)
    assert (one.revision, two.revision) == (1, 2)
    assert [s.superseded_at for s in second] == [NOW + DAY, None]
    assert first[0].superseded_at is None  # the earlier list is left as it was


def test_why_a_round_stopped_taking_inputs() -> None:
    assert rules.why_inputs_closed(("Meeting moved", "op@x.example"), True) == (
        "closed early by op@x.example: Meeting moved",
        "early",
    )
    assert rules.why_inputs_closed(None, True) == ("every party submitted every pillar", "complete")
    assert rules.why_inputs_closed(None, False) == ("inputs due date reached", "due")


def test_an_empty_or_oversized_document_is_refused() -> None:
    with pytest.raises(rules.RequestRefused, match="the minutes are empty"):
        rules.check_document({Locale.EN: " \n"}, "the minutes", plural=True)
    with pytest.raises(rules.RequestRefused, match=r"the draft is \d+ bytes; the limit is"):
        rules.check_document({Locale.EN: "x" * 300_000}, "the draft")
    rules.check_document({Locale.EN: "# Agreement"}, "the draft")

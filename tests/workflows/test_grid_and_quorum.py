"""The grid and the quorum rules, without Temporal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.approvals import Decision, DecisionRecord, Outcome
from schemas.declaration import ApprovalRule, Pillar
from schemas.pillar_inputs import PILLAR_INPUT, Channel, SubmissionRecord
from workflows import grid, quorum

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def record(party: str, pillar: Pillar, revision: int = 1) -> SubmissionRecord:
    item = PILLAR_INPUT.validate_python(
        {"party": party, "pillar": pillar.value, "author": "a@b.example", "summary": "s"}
    )
    return SubmissionRecord(
        revision=revision, input=item, submitted_by="op@x.example", channel=Channel.OPERATOR, submitted_at=NOW
    )


def test_grid_marks_revisions_and_names_what_is_missing() -> None:
    g = grid.build_grid(["CL", "US"], [Pillar.SUPPLY_CHAIN, Pillar.FINANCING], [record("CL", Pillar.FINANCING, 2)])
    assert g == {
        "CL": {Pillar.SUPPLY_CHAIN: 0, Pillar.FINANCING: 2},
        "US": {Pillar.SUPPLY_CHAIN: 0, Pillar.FINANCING: 0},
    }
    assert grid.missing(g) == ["CL/supply_chain", "US/supply_chain", "US/financing"]
    assert not grid.is_complete(g)
    table = grid.grid_markdown(g)
    assert "| CL | — | ✓ (rev 2) |" in table and "| US | — | — |" in table


def decision(approver: str, kind: Decision = Decision.APPROVE) -> DecisionRecord:
    return DecisionRecord(
        party="US",
        approver=approver,
        approver_name=approver,
        decision=kind,
        comment="",
        version=1,
        sha256="x",
        channel=Channel.OPERATOR,
        recorded_by=approver,
        at=NOW,
    )


@pytest.mark.parametrize(
    ("rule", "decided", "expected"),
    [
        (ApprovalRule.ANY, [], Outcome.PENDING),
        (ApprovalRule.ANY, [decision("a")], Outcome.APPROVED),
        (ApprovalRule.ALL, [decision("a")], Outcome.PENDING),
        (ApprovalRule.ALL, [decision("a"), decision("b")], Outcome.APPROVED),
        (ApprovalRule.ALL, [decision("a"), decision("b", Decision.REQUEST_CHANGES)], Outcome.CHANGES_REQUESTED),
        (ApprovalRule.ANY, [decision("a"), decision("b", Decision.DECLINE)], Outcome.DECLINED),
        (ApprovalRule.ANY, [decision("stranger")], Outcome.PENDING),
    ],
)
def test_party_rule(rule: ApprovalRule, decided: list[DecisionRecord], expected: Outcome) -> None:
    assert quorum.party_outcome(rule, ["a", "b"], decided) is expected


def test_every_party_must_approve() -> None:
    assert quorum.overall_outcome([Outcome.APPROVED, Outcome.PENDING]) is Outcome.PENDING
    assert quorum.overall_outcome([Outcome.APPROVED, Outcome.APPROVED]) is Outcome.APPROVED
    assert quorum.overall_outcome([Outcome.CHANGES_REQUESTED, Outcome.APPROVED]) is Outcome.CHANGES_REQUESTED
    assert quorum.overall_outcome([Outcome.CHANGES_REQUESTED, Outcome.DECLINED]) is Outcome.DECLINED

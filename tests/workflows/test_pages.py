"""The `link_page` query's builders, without Temporal: a page gets its reader, the document in the
reader's language only, and only its own party's inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from schemas.approvals import Decision, DecisionRecord, Delegation, Outcome
from schemas.declaration import Locale, Pillar
from schemas.documents import DocumentVersion, as_issued, next_version
from schemas.links import LinkPurpose
from schemas.pages import ApprovalPage, LinkPageRequest, PageReader
from schemas.pillar_inputs import Channel, SubmissionRecord
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    US_APPROVER_2,
    US_LEAD,
    submission,
    two_approver_declaration,
)
from workflows import grid
from workflows.pages import MINUTES_DECISIONS, approval_page, input_page, page_of

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DECLARATION = two_approver_declaration(datetime(2026, 11, 27, 10, tzinfo=timezone(timedelta(hours=-3))))
SPANISH = "# Acta de la ronda 1\n\nTexto en castellano.\n"
ENGLISH = "# Minutes of round 1\n\nEnglish text.\n"
V1 = next_version([], as_issued({Locale.EN: ENGLISH, Locale.ES: SPANISH}), "system", NOW)
V2 = next_version([V1], as_issued({Locale.EN: ENGLISH + "v2\n", Locale.ES: SPANISH + "v2\n"}), "op", NOW)


@dataclass
class Step:
    """An approval step as a page reads it (workflows.approval.ApprovalStep)."""

    document: DocumentVersion
    deadline: datetime = NOW + timedelta(days=7)
    delegations: list[Delegation] = field(default_factory=list)
    outcome: Outcome = Outcome.PENDING


def reader(email: str) -> PageReader:
    found = page_of(DECLARATION, LinkPageRequest(recipient=email, purpose=LinkPurpose.MINUTES_APPROVAL)).reader
    assert found is not None and found.email == email
    return found


def minutes(
    email: str, step: Step | None, version: int = 1, decisions: list[DecisionRecord] | None = None, open: bool = True
) -> ApprovalPage:
    return approval_page(
        DECLARATION,
        reader(email),
        version,
        round_number=1,
        open=open,
        state="minutes_approval" if open else "closed",
        allowed=MINUTES_DECISIONS,
        approval=step,
        decisions=decisions or [],
    )


def decision(approver: str, version: int = 1, delegate: str | None = None) -> DecisionRecord:
    return DecisionRecord(
        party="CL",
        approver=approver,
        approver_name="Carolina Fuentes",
        decision=Decision.APPROVE,
        comment="",
        version=version,
        sha256=V1.sha256,
        channel=Channel.EMAIL_LINK,
        recorded_by=delegate or approver,
        at=NOW,
        delegate=delegate,
    )


def test_the_page_carries_the_document_in_the_readers_language_only() -> None:
    spanish = minutes(CL_APPROVER, Step(V1))
    assert spanish.document is not None
    assert (spanish.document.locale, spanish.document.text) == (Locale.ES, as_issued({Locale.ES: SPANISH})[Locale.ES])
    assert (spanish.version, spanish.sha256, spanish.outcome) == (1, V1.sha256, Outcome.PENDING)
    serialized = spanish.model_dump_json()
    assert "Texto en castellano" in serialized and "English text" not in serialized
    english = minutes(US_LEAD, Step(V1))
    assert english.document is not None and english.document.locale is Locale.EN
    assert "Texto en castellano" not in english.model_dump_json()


def test_a_reader_whose_language_is_missing_gets_the_language_it_was_written_in() -> None:
    french_reader = reader(CL_APPROVER).model_copy(update={"locale": Locale.FR})
    page = approval_page(
        DECLARATION,
        french_reader,
        1,
        round_number=1,
        open=True,
        state="minutes_approval",
        allowed=MINUTES_DECISIONS,
        approval=Step(V1),
        decisions=[],
    )
    assert page.document is not None and page.document.locale is Locale.EN and "English text" in page.document.text


def test_no_document_once_decided_on_a_stale_version_or_closed() -> None:
    decided = minutes(CL_APPROVER, Step(V1), decisions=[decision(CL_APPROVER)])
    assert decided.document is None and decided.earlier == decision(CL_APPROVER)
    stale = minutes(CL_APPROVER, Step(V2), version=1)
    assert stale.document is None and stale.version == 2 and stale.earlier is None
    closed = minutes(CL_APPROVER, Step(V1, outcome=Outcome.APPROVED), open=False)
    assert closed.document is None and closed.outcome is Outcome.APPROVED
    none_yet = minutes(CL_APPROVER, None, open=False)
    assert none_yet.version is None and none_yet.document is None


def test_forwarding_an_approvers_decision() -> None:
    # An approver may forward to the colleagues of their party who are not approvers.
    own = minutes(CL_APPROVER, Step(V1))
    assert [c.email for c in own.colleagues] == [CL_LEAD]
    forwarded = Delegation(
        party="CL",
        approver=CL_APPROVER,
        approver_name="Carolina Fuentes",
        delegate=CL_LEAD,
        delegate_name="Valentina Rojas",
        version=1,
        channel=Channel.EMAIL_LINK,
        recorded_by=CL_APPROVER,
        at=NOW,
    )
    step = Step(V1, delegations=[forwarded])
    assert minutes(CL_APPROVER, step).colleagues == []
    # The delegate decides for the approver: their page says so, and shows the approver's decision once taken.
    delegate = minutes(CL_LEAD, step)
    assert delegate.delegated_by == forwarded and delegate.document is not None
    taken = minutes(CL_LEAD, step, decisions=[decision(CL_APPROVER, delegate=CL_LEAD)])
    assert taken.earlier is not None and taken.document is None
    # In the US every colleague of David Park is an approver already: nobody to forward to.
    assert minutes(US_APPROVER_2, Step(V1)).colleagues == []


def test_an_input_page_shows_only_the_readers_party() -> None:
    submissions: list[SubmissionRecord] = []
    for request in (
        submission("CL", Pillar.FINANCING, CL_LEAD, "first"),
        submission("CL", Pillar.FINANCING, CL_LEAD, "second"),
        submission("US", Pillar.SUPPLY_CHAIN, US_LEAD, "theirs"),
    ):
        submissions, _ = grid.with_submission(submissions, request, NOW)
    page = input_page(
        reader(CL_LEAD),
        Pillar.FINANCING,
        round_number=1,
        collecting=True,
        pillars=[Pillar.SUPPLY_CHAIN, Pillar.FINANCING],
        inputs_due=NOW,
        submissions=submissions,
    )
    assert {p: r.revision for p, r in page.submitted.items()} == {Pillar.FINANCING: 2}
    assert page.current is not None and page.current.summary == "second"
    assert "theirs" not in page.model_dump_json()
    other_form = input_page(
        reader(CL_LEAD),
        Pillar.SUPPLY_CHAIN,
        round_number=1,
        collecting=True,
        pillars=[Pillar.SUPPLY_CHAIN, Pillar.FINANCING],
        inputs_due=NOW,
        submissions=submissions,
    )
    assert other_form.current is None


def test_a_recipient_no_longer_in_the_declaration_has_no_page() -> None:
    page = page_of(DECLARATION, LinkPageRequest(recipient="gone@x.example", purpose=LinkPurpose.PILLAR_INPUT))
    assert page.reader is None and page.title == DECLARATION.title

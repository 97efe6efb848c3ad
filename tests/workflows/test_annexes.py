"""Files with inputs, minutes and drafts: a resubmission keeps or drops earlier files, the minutes list what
each party attached, and a version's SHA-256 covers its annexes, so an approval given on one set of annexes
does not pass to another. The rules as plain functions, then the real workflows on the time-skipping server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import consultations as operations
from schemas.annexes import FileRecord
from schemas.approvals import Decision
from schemas.consultation import Stage, StartDraftingRequest, SubmitDraftRequest
from schemas.declaration import Locale, Pillar
from schemas.documents import as_issued, document_sha256
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import ReissueMinutesRequest, RoundState
from tests.helpers import (
    APPROVERS,
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    US_LEAD,
    decide,
    eventually,
    open_round,
    round_closed,
    running_worker,
    submission,
    two_approver_declaration,
)
from tests.helpers.attachments import ATTACHED_AT, csv, file_record, pdf, png, recorded
from workflows import rules
from workflows.consultation import Consultation
from workflows.rules import RequestRefused
from workflows.technical_round import TechnicalRound

pytestmark = pytest.mark.files


A, B, C = (file_record(n, c * 64, size=10) for n, c in (("a.pdf", "a"), ("b.pdf", "b"), ("c.pdf", "c")))


def _current(*files: FileRecord) -> SubmissionRecord:
    request = submission("CL", Pillar.FINANCING, CL_LEAD, attachments=list(files))
    return SubmissionRecord(
        revision=1, input=request.input, submitted_by=CL_OPERATOR, channel="operator", submitted_at=ATTACHED_AT
    )


def test_a_resubmission_keeps_the_named_files_first_then_the_new_ones() -> None:
    request = submission("CL", Pillar.FINANCING, CL_LEAD, attachments=[C]).model_copy(
        update={"keep": [B.sha256, A.sha256]}
    )
    recorded_ = rules.with_kept_files(request, _current(A, B))
    assert recorded_.input.attachments == [A, B, C]  # kept in the earlier order, then the new one
    assert rules.with_kept_files(request.model_copy(update={"keep": []}), _current(A, B)).input.attachments == [C]


def test_keeping_an_unknown_file_or_one_twice_is_refused_naming_it() -> None:
    with pytest.raises(RequestRefused, match=f"no file with SHA-256 {C.sha256} is attached to CL/financing") as e:
        rules.kept_files(_current(A, B), [C.sha256])
    assert "a.pdf" in str(e.value) and "b.pdf" in str(e.value)  # what can be kept
    with pytest.raises(RequestRefused, match="no earlier input to keep files from"):
        rules.kept_files(None, [A.sha256])
    with pytest.raises(RequestRefused, match=f"a.pdf is attached twice to the draft \\(SHA-256 {A.sha256}\\)"):
        rules.check_annexes([A, A], "the draft")
    renamed = A.model_copy(update={"name": "copy.pdf"})
    with pytest.raises(RequestRefused, match=r"copy\.pdf is the same file as a\.pdf .*: attach it once to the minutes"):
        rules.check_annexes([A, renamed], "the minutes")


def test_a_versions_fingerprint_covers_its_annexes() -> None:
    text = {Locale.EN: "# Agreement\n"}
    assert document_sha256(text, []) == document_sha256(text)  # versions without annexes keep their fingerprint
    assert document_sha256(text, [A]) != document_sha256(text)
    assert document_sha256(text, [A]) != document_sha256(text, [B])
    assert document_sha256(text, [A, B]) != document_sha256(text, [B, A])


async def test_files_travel_with_inputs_minutes_and_drafts_and_approvals_cover_the_annexes(
    time_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    client = time_env.client
    declaration = two_approver_declaration(await time_env.get_current_time())
    paper = await recorded(tmp_path, "position-paper.pdf", pdf("CL financing"), CL_LEAD)
    projects = await recorded(tmp_path, "projects.csv", csv(), CL_LEAD)
    photo = await recorded(tmp_path, "site.png", png(), CL_LEAD)
    annex_1 = await recorded(tmp_path, "annex-1.pdf", pdf("annex one"), CL_OPERATOR)
    annex_2 = await recorded(tmp_path, "annex-2.pdf", pdf("annex two"), CL_OPERATOR)
    async with running_worker(client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await round_.submit(submission("CL", Pillar.FINANCING, CL_LEAD, attachments=[paper, projects]))

        # A keep naming a file the current input does not have is refused, naming it; nothing is recorded.
        unknown = submission("CL", Pillar.FINANCING, CL_LEAD).model_copy(update={"keep": [photo.sha256]})
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await round_.submit(unknown)
        assert f"no file with SHA-256 {photo.sha256} is attached to CL/financing revision 1" in str(refused.value.cause)
        # Keeping the paper, dropping the project list, adding a photo.
        again = submission("CL", Pillar.FINANCING, CL_LEAD, summary="Revised", attachments=[photo])
        await round_.submit(again.model_copy(update={"keep": [paper.sha256]}))
        status = await round_.status()
        first, second = [s for s in status.submissions if s.input.party == "CL"]
        assert (first.revision, first.input.attachments) == (1, [paper, projects])  # the earlier one stands
        assert (second.revision, second.input.attachments) == (2, [paper, photo])
        assert second.superseded_at is None

        for request in (
            submission("CL", Pillar.SUPPLY_CHAIN, CL_LEAD),
            submission("US", Pillar.SUPPLY_CHAIN, US_LEAD),
            submission("US", Pillar.FINANCING, US_LEAD),
        ):
            await round_.submit(request)
        approving = await round_.in_state(RoundState.MINUTES_APPROVAL)
        minutes = approving.minutes[-1]
        for locale in (Locale.EN, Locale.ES):
            written = minutes.documents[locale]
            for f in (paper, photo):
                assert f.sha256 in written and f.media_type.label in written
            assert projects.sha256 not in written  # dropped from the current input
        assert "position-paper.pdf" in minutes.documents[Locale.EN]
        assert "Attached files" in minutes.documents[Locale.EN] and "Archivos adjuntos" in minutes.documents[Locale.ES]

        # Changes requested; v2 with an annex, then v3: the same text with another annex is another version.
        await round_.decide(CL_APPROVER, Decision.REQUEST_CHANGES, comment="annex the study")
        await round_.in_state(RoundState.CHANGES_REQUESTED)
        text = {Locale.EN: "# Minutes\n", Locale.ES: "# Acta\n"}
        v2 = await round_.handle.execute_update(
            TechnicalRound.reissue_minutes,
            ReissueMinutesRequest(documents=text, requested_by=CL_OPERATOR, annexes=[annex_1]),
        )
        assert v2.annexes == [annex_1] and v2.sha256 == document_sha256(as_issued(text), [annex_1])
        assert v2.sha256 != document_sha256(as_issued(text))
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        await round_.decide(CL_APPROVER, Decision.REQUEST_CHANGES, comment="the other annex")
        await round_.in_state(RoundState.CHANGES_REQUESTED)
        v3 = await round_.handle.execute_update(
            TechnicalRound.reissue_minutes,
            ReissueMinutesRequest(documents=text, requested_by=CL_OPERATOR, annexes=[annex_2]),
        )
        assert v3.sha256 != v2.sha256
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        # An approval given on v2 (its annex) is not an approval of v3.
        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await round_.decide(US_LEAD, sha=v2.sha256)
        assert f"the current minutes of round 1 is version 3 (SHA-256 {v3.sha256})" in str(stale.value.cause)
        for approver in APPROVERS:
            await round_.decide(approver, sha=v3.sha256)
        result = await round_.handle.result()
        assert result.minutes[-1].annexes == [annex_2]
        await eventually(lambda: round_closed(round_.consultation))
        # A closed round's minutes are read back with their text, found by the fingerprint over text and annexes.
        closed = await operations.round_of(client, round_.handle.id, 1)
        assert closed.minutes[-1].documents == as_issued(text)

        # The agreement: a draft's annexes are in its fingerprint too.
        consultation = round_.consultation
        await consultation.execute_update(Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR))
        agreement = {Locale.EN: "# Agreement\n"}
        draft = await consultation.execute_update(
            Consultation.submit_draft,
            SubmitDraftRequest(documents=agreement, requested_by=CL_OPERATOR, annexes=[annex_1, annex_2]),
        )
        assert draft.sha256 == document_sha256(as_issued(agreement), [annex_1, annex_2])
        with pytest.raises(WorkflowUpdateFailedError) as without_annexes:
            await decide(consultation, CL_APPROVER, document_sha256(as_issued(agreement)))
        assert "that decision is on another version" in str(without_annexes.value.cause)
        for approver in APPROVERS:
            await decide(consultation, approver, draft.sha256)
        final = await consultation.result()
    assert final.stage is Stage.CONCLUDED
    assert final.drafts[-1].annexes == [annex_1, annex_2]
    assert {d.sha256 for d in final.agreement_decisions} == {draft.sha256}

"""Technical rounds end to end on the time-skipping server: the real consultation and round
workflows, a real worker, real SMTP. Each test checks the recorded state and the mail received.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import consultations as operations
from schemas.approvals import Decision, DecisionRequest, DelegateRequest, Outcome
from schemas.consultation import ConsultationStatus, OpenRoundRequest, Stage, StartDraftingRequest
from schemas.declaration import Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT, Channel
from schemas.rounds import CloseRoundRequest, ReissueMinutesRequest, RoundState, SubmitInputRequest
from tests.helpers import (
    AGENDA,
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    DAY,
    US_APPROVER_2,
    US_LEAD,
    US_OPERATOR,
    Round,
    body,
    delivered,
    eventually,
    everyone,
    notices_of,
    open_round,
    received,
    recipients,
    round_closed,
    round_exists,
    running_worker,
    submission,
    submit_all,
    two_approver_declaration,
)
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound


async def test_all_inputs_close_the_round_early_and_every_party_approves_the_minutes(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        approving = await round_.in_state(RoundState.MINUTES_APPROVAL)
        await round_.decide(CL_APPROVER)  # CL: any → approved with one
        await round_.decide(US_LEAD)  # US: all → still waiting for David Park
        waiting = await round_.status()
        await round_.decide(US_APPROVER_2)
        await round_.handle.result()
        # As an operator reads a closed round (the result names its minutes; their text is in its history).
        final = await operations.round_of(time_env.client, round_.handle.id, 1)
        parent = await eventually(lambda: round_closed(round_.consultation))
        await received(outbox, declaration.id, "approved", len(everyone(declaration)))

    assert approving.close_reason == "every party submitted every pillar"
    assert approving.inputs_closed_at is not None and approving.inputs_closed_at < declaration.signed_at + 2 * DAY
    assert approving.missing == []
    assert waiting.approval is not None
    assert waiting.approval.parties == {"CL": Outcome.APPROVED, "US": Outcome.PENDING}
    assert final.state is RoundState.CLOSED
    minutes = final.minutes[-1]
    assert [(d.party, d.approver, d.sha256, d.channel) for d in final.decisions] == [
        ("CL", CL_APPROVER, minutes.sha256, Channel.OPERATOR),
        ("US", US_LEAD, minutes.sha256, Channel.OPERATOR),
        ("US", US_APPROVER_2, minutes.sha256, Channel.OPERATOR),
    ]
    assert "Acta de la ronda técnica 1" in minutes.documents[Locale.ES]
    assert (
        "Minutes of technical round 1" in minutes.documents[Locale.EN]
        and "Refining concentration" in minutes.documents[Locale.EN]
    )
    assert "| **Total** | **800,000,000** | **50.0 %** |" in minutes.documents[Locale.EN]
    # The consultation keeps the round's grid and minutes hash.
    assert parent.rounds[0].minutes_sha256 == minutes.sha256
    assert parent.rounds[0].grid == {"CL": dict.fromkeys(AGENDA, 1), "US": dict.fromkeys(AGENDA, 1)}
    # Input requests went to the technical leads, approval requests to the approvers, the result to all.
    cid = declaration.id
    assert recipients(notices_of(outbox, cid, "input_request")) == {CL_LEAD, US_LEAD}
    assert recipients(notices_of(outbox, cid, "approval_request")) == {CL_APPROVER, US_LEAD, US_APPROVER_2}
    spanish = next(
        m for m in notices_of(outbox, cid, "approval_request") if m["To"].addresses[0].addr_spec == CL_APPROVER
    )
    assert "Acta de la ronda técnica 1" in body(spanish) and minutes.sha256 in body(spanish)
    assert "<h1>Acta de la ronda técnica 1</h1>" in body(spanish, "html")
    approved = notices_of(outbox, cid, "approved")
    assert recipients(approved) == everyone(declaration) and len(approved) == len(everyone(declaration))


async def test_the_due_date_closes_the_round_with_missing_inputs_named(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await round_.submit(submission("CL", Pillar.SUPPLY_CHAIN, CL_LEAD))
        await round_.submit(submission("US", Pillar.SUPPLY_CHAIN, US_LEAD))
        await time_env.sleep(8 * DAY)
        closed = await round_.in_state(RoundState.MINUTES_APPROVAL)

    assert closed.close_reason == "inputs due date reached"
    assert closed.missing == ["CL/financing", "US/financing"]
    assert closed.inputs_closed_at is not None
    assert abs(closed.inputs_closed_at - (declaration.signed_at + 8 * DAY)) < timedelta(seconds=1)
    minutes = closed.minutes[-1].documents[Locale.EN]
    assert "- República de Chile (CL) — Financing\n- United States of America (US) — Financing" in minutes
    assert "_No input received from US._" in minutes


async def test_reminders_go_to_the_party_still_missing_inputs_only(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue, inputs_due_day=9)
        for pillar in AGENDA:
            await round_.submit(submission("CL", pillar, CL_LEAD))
        await round_.submit(submission("US", Pillar.SUPPLY_CHAIN, US_LEAD))
        await time_env.sleep(7 * DAY)  # inputs due on day 9: reminder 7 days before falls on day 2
        status = await round_.status()

    reminders = notices_of(outbox, declaration.id, "input_reminder")
    assert recipients(reminders) == {US_LEAD}
    assert [n.kind for n in status.notices].count("input_reminder") == 2  # days 2 and 6 (7 and 3 before)
    assert all("financing" in body(m) and "supply" not in m["Subject"] for m in reminders)


async def test_a_resubmission_supersedes_and_keeps_the_earlier_revision(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await round_.submit(submission("CL", Pillar.FINANCING, CL_LEAD, summary="First thoughts"))
        await round_.submit(submission("CL", Pillar.FINANCING, CL_LEAD, summary="Agreed position"))
        status = await round_.status()

    revisions = [(s.revision, s.input.summary, s.superseded_at is not None) for s in status.submissions]
    assert revisions == [(1, "First thoughts", True), (2, "Agreed position", False)]
    assert status.grid["CL"][Pillar.FINANCING] == 2 and status.grid["US"][Pillar.FINANCING] == 0


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (submission("AR", Pillar.FINANCING, CL_LEAD), "party AR is not in this consultation (parties: CL, US)"),
        (
            SubmitInputRequest(
                input=PILLAR_INPUT.validate_python(
                    {"party": "CL", "pillar": "recycling", "author": CL_LEAD, "summary": "s", "items": []}
                ),
                submitted_by=CL_OPERATOR,
            ),
            "pillar recycling is not on the agenda of round 1 (agenda: supply_chain, financing)",
        ),
        (submission("US", Pillar.FINANCING, CL_LEAD), "vrojas@minrel.example is not a technical lead of party US"),
        (submission("CL", Pillar.FINANCING, CL_APPROVER), "is not a technical lead of party CL"),
        (
            SubmitInputRequest(
                input=submission("CL", Pillar.FINANCING, CL_LEAD).input, submitted_by="intruder@elsewhere.example"
            ),
            "intruder@elsewhere.example is not an operator",
        ),
        (
            SubmitInputRequest(
                input=submission("CL", Pillar.FINANCING, CL_LEAD).input,
                submitted_by=CL_OPERATOR,
                channel=Channel.EMAIL_LINK,
            ),
            "must be submitted by its author",
        ),
    ],
)
async def test_refused_submissions_say_why_and_record_nothing(
    time_env: WorkflowEnvironment, outbox: Outbox, request_: SubmitInputRequest, reason: str
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await round_.submit(request_)
        status = await round_.status()
    assert reason in str(refused.value.cause)
    assert status.submissions == []


async def test_an_invalid_payload_and_a_closed_round_are_refused(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        bad = {
            "input": {
                "party": "CL",
                "pillar": "supply_chain",
                "author": CL_LEAD,
                "summary": "s",
                "items": [{"mineral": "unobtainium", "risk": "r", "measure": "m"}],
            },
            "submitted_by": CL_OPERATOR,
        }
        with pytest.raises(WorkflowUpdateFailedError) as invalid:
            await round_.handle.execute_update("submit_input", bad)
        await round_.handle.execute_update(
            TechnicalRound.close, CloseRoundRequest(reason="Meeting moved forward", requested_by=US_OPERATOR)
        )
        closed = await round_.in_state(RoundState.MINUTES_APPROVAL)
        with pytest.raises(WorkflowUpdateFailedError) as late:
            await round_.submit(submission("CL", Pillar.FINANCING, CL_LEAD))
        after = await round_.status()

    assert "'unobtainium' is not on the critical minerals list" in str(
        invalid.value.cause.__cause__ or invalid.value.cause
    )
    assert "round 1 is closed for inputs" in str(late.value.cause)
    assert closed.close_reason == f"closed early by {US_OPERATOR}: Meeting moved forward"
    assert after.submissions == []


async def test_changes_requested_then_reissued_minutes_are_approved(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        first = (await round_.in_state(RoundState.MINUTES_APPROVAL)).minutes[-1]
        with pytest.raises(WorkflowUpdateFailedError) as no_comment:
            await round_.decide(CL_APPROVER, Decision.REQUEST_CHANGES)
        await round_.decide(CL_APPROVER, Decision.REQUEST_CHANGES, comment="Name the Atacama offtake explicitly")
        await round_.in_state(RoundState.CHANGES_REQUESTED)
        await round_.handle.execute_update(
            TechnicalRound.reissue_minutes,
            ReissueMinutesRequest(
                documents={
                    Locale.EN: "# Minutes of round 1\n\nAtacama offtake named.\n",
                    Locale.ES: "# Acta de la ronda 1\n\nOfftake de Atacama nombrado.\n",
                },
                requested_by=CL_OPERATOR,
            ),
        )
        second = (await round_.in_state(RoundState.MINUTES_APPROVAL)).minutes[-1]
        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await round_.decide(US_LEAD, sha=first.sha256)
        for approver in (CL_APPROVER, US_LEAD, US_APPROVER_2):
            await round_.decide(approver, sha=second.sha256)
        final = await round_.handle.result()

    assert "request_changes needs a comment" in str(no_comment.value.cause)
    assert f"the current minutes of round 1 is version 2 (SHA-256 {second.sha256})" in str(stale.value.cause)
    assert second.version == 2 and second.sha256 != first.sha256 and second.issued_by == CL_OPERATOR
    assert final.state is RoundState.CLOSED
    assert [(d.version, d.decision) for d in final.decisions] == [
        (1, Decision.REQUEST_CHANGES),
        (2, Decision.APPROVE),
        (2, Decision.APPROVE),
        (2, Decision.APPROVE),
    ]
    changes = notices_of(outbox, declaration.id, "changes_requested")
    assert recipients(changes) == {CL_OPERATOR, US_OPERATOR}
    assert all("Name the Atacama offtake explicitly" in body(m) for m in changes)
    assert len(notices_of(outbox, declaration.id, "approval_request")) == 6  # 3 approvers × 2 versions


async def test_an_approver_decides_once(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        await round_.decide(US_LEAD)
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await round_.decide(US_LEAD)
        with pytest.raises(WorkflowUpdateFailedError) as stranger:
            await round_.decide(CL_LEAD)
        with pytest.raises(WorkflowUpdateFailedError) as not_operator:
            await round_.handle.execute_update(
                TechnicalRound.decide,
                DecisionRequest(
                    approver=CL_APPROVER,
                    decision=Decision.APPROVE,
                    sha256=(await round_.status()).minutes[-1].sha256,
                    recorded_by="nobody@elsewhere.example",
                ),
            )
        status = await round_.status()
    assert "already recorded on" in str(again.value.cause) and "by Michael Turner: approve" in str(again.value.cause)
    assert "vrojas@minrel.example is not an approver" in str(stranger.value.cause)
    assert "nobody@elsewhere.example is not an operator" in str(not_operator.value.cause)
    assert len(status.decisions) == 1


async def test_unanswered_minutes_escalate_at_the_approval_deadline(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        await round_.in_state(RoundState.MINUTES_APPROVAL)
        await round_.decide(CL_APPROVER)
        await time_env.sleep(15 * DAY)  # day 16: approvers have 7 days from the meeting on day 10
        before = await round_.status()
        await time_env.sleep(2 * DAY)
        status = await round_.status()
        parent = await round_.consultation.query(Consultation.status)

    assert before.approval is not None and not before.approval.overdue
    assert status.approval is not None and status.approval.overdue
    assert status.approval.deadline == declaration.signed_at + 17 * DAY
    assert parent.overdue is True and parent.rounds[0].overdue
    reminders = notices_of(outbox, declaration.id, "approval_reminder")
    assert recipients(reminders) == {US_LEAD, US_APPROVER_2}  # CL has approved: not reminded
    escalation = notices_of(outbox, declaration.id, "approval_escalation")
    assert recipients(escalation) == everyone(declaration) and all("US" in body(m) for m in escalation)


async def test_two_rounds_then_drafting(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        first = await open_round(time_env, declaration, task_queue)
        await submit_all(first)
        await first.in_state(RoundState.MINUTES_APPROVAL)
        for approver in (CL_APPROVER, US_LEAD, US_APPROVER_2):
            await first.decide(approver)
        await first.handle.result()
        await eventually(lambda: round_closed(first.consultation))
        now = await time_env.get_current_time()
        await first.consultation.execute_update(
            Consultation.open_round,
            OpenRoundRequest(
                meeting_at=now + 30 * DAY,
                inputs_due=now + 20 * DAY,
                pillars=[Pillar.FINANCING],
                requested_by=US_OPERATOR,
            ),
        )
        second = Round(time_env.client, first.consultation, number=2)
        await eventually(lambda: round_exists(second))
        with pytest.raises(WorkflowUpdateFailedError) as busy:
            await first.consultation.execute_update(
                Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR)
            )
        await second.submit(submission("CL", Pillar.FINANCING, CL_LEAD))
        await second.submit(submission("US", Pillar.FINANCING, US_LEAD))
        await second.in_state(RoundState.MINUTES_APPROVAL)
        for approver in (CL_APPROVER, US_LEAD, US_APPROVER_2):
            await second.decide(approver)
        await second.handle.result()

        async def both_closed() -> ConsultationStatus | None:
            s = await first.consultation.query(Consultation.status)
            return s if len(s.rounds) == 2 and all(r.state is RoundState.CLOSED for r in s.rounds) else None

        await eventually(both_closed)
        await first.consultation.execute_update(
            Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR)
        )
        status = await delivered(first.consultation, "drafting_started")

    assert "round 2 is still open" in str(busy.value.cause)
    assert status.stage is Stage.DRAFTING_AGREEMENT
    assert [r.pillars for r in status.rounds] == [AGENDA, [Pillar.FINANCING]]
    assert (
        all(r.minutes_sha256 for r in status.rounds)
        and status.rounds[0].minutes_sha256 != status.rounds[1].minutes_sha256
    )


async def test_forwarding_goes_to_a_colleague_who_is_not_an_approver_and_only_once(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        await submit_all(round_)
        await round_.in_state(RoundState.MINUTES_APPROVAL)

        async def forward(approver: str, delegate: str) -> None:
            await round_.handle.execute_update(
                TechnicalRound.delegate, DelegateRequest(approver=approver, delegate=delegate, recorded_by=CL_OPERATOR)
            )

        with pytest.raises(WorkflowUpdateFailedError) as fellow:
            await forward(US_APPROVER_2, US_LEAD)
        await forward(CL_APPROVER, CL_LEAD)
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await forward(CL_APPROVER, CL_LEAD)
        await round_.decide(CL_LEAD)  # the delegate decides for Carolina Fuentes
        status = await round_.status()
        # The delegate's link goes out beside the lifecycle: wait for it while the worker runs.
        await eventually(lambda: recipients(notices_of(outbox, declaration.id, "delegated")) == {CL_LEAD})
    assert "Michael Turner is an approver already" in str(fellow.value.cause)
    assert "already" in str(twice.value.cause)
    (decision,) = status.decisions
    assert (decision.approver, decision.delegate) == (CL_APPROVER, CL_LEAD)

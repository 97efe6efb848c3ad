"""The definitive agreement on the time-skipping server: drafts, decisions bound to versions, conclusion, decline."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from schemas.approvals import Decision, DecisionRequest, Outcome
from schemas.consultation import ConsultationStatus, Stage, StartDraftingRequest
from schemas.declaration import Declaration
from schemas.pillar_inputs import Channel
from schemas.rounds import RoundState
from tests.helpers import (
    AGENDA,
    APPROVERS,
    CL_APPROVER,
    CL_OPERATOR,
    US_APPROVER_2,
    US_LEAD,
    Round,
    body,
    close_round_with_approval,
    decide,
    delivered,
    drafting,
    eventually,
    everyone,
    notices_of,
    open_round,
    received,
    recipients,
    round_closed,
    round_exists,
    running_worker,
    submit,
    two_approver_declaration,
)
from workflows.consultation import Consultation


async def stage(handle: WorkflowHandle[Any, ConsultationStatus], wanted: Stage) -> ConsultationStatus | None:
    status = await handle.query(Consultation.status)
    return status if status.stage is wanted else None


async def test_changes_then_a_second_version_approved_by_all_concludes(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        handle = await drafting(time_env, declaration, task_queue)
        v1 = await submit(handle, "# Agreement\n\nArticle 1. Cooperation.\n", "# Acuerdo\n\nArtículo 1. Cooperación.\n")
        await delivered(handle, "approval_request")
        await decide(handle, US_LEAD, v1)
        await decide(handle, CL_APPROVER, v1, Decision.REQUEST_CHANGES, "Add a review clause")
        await eventually(lambda: stage(handle, Stage.DRAFTING_AGREEMENT))
        v2 = await submit(
            handle,
            "# Agreement\n\nArticle 1. Cooperation.\nArticle 2. Review every year.\n",
            "# Acuerdo\n\nArtículo 1. Cooperación.\nArtículo 2. Revisión anual.\n",
        )
        await delivered(handle, "approval_request", 2)
        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await decide(handle, US_APPROVER_2, v1)
        await decide(handle, CL_APPROVER, v2)
        await decide(handle, US_LEAD, v2)
        waiting = await handle.query(Consultation.status)  # US decides with `all`: one of two is not enough
        await decide(handle, US_APPROVER_2, v2)
        result = await handle.result()
        await received(outbox, declaration.id, "concluded", len(everyone(declaration)))

    assert f"the current agreement draft is version 2 (SHA-256 {v2})" in str(stale.value.cause)
    assert waiting.stage is Stage.AWAITING_APPROVAL
    assert waiting.agreement_approval is not None
    assert waiting.agreement_approval.parties == {"CL": Outcome.APPROVED, "US": Outcome.PENDING}
    assert result.stage is Stage.CONCLUDED and result.concluded_at is not None
    assert [d.sha256 for d in result.drafts] == [v1, v2]
    assert [(d.version, d.approver, d.decision) for d in result.agreement_decisions] == [
        (1, US_LEAD, Decision.APPROVE),
        (1, CL_APPROVER, Decision.REQUEST_CHANGES),
        (2, CL_APPROVER, Decision.APPROVE),
        (2, US_LEAD, Decision.APPROVE),
        (2, US_APPROVER_2, Decision.APPROVE),
    ]
    cid = declaration.id
    changes = notices_of(outbox, cid, "draft_changes_requested")
    assert recipients(changes) == set(declaration_operators(declaration)) and "Add a review clause" in body(changes[0])
    second = [m for m in notices_of(outbox, cid, "approval_request") if "v2" in m["Subject"]]
    spanish = next(m for m in second if m["To"].addresses[0].addr_spec == CL_APPROVER)
    assert "+Artículo 2. Revisión anual." in body(spanish)  # the diff against v1, in the reader's language
    concluded = notices_of(outbox, cid, "concluded")
    assert recipients(concluded) == everyone(declaration) and all(v2 in body(m) for m in concluded)


def declaration_operators(declaration: Declaration) -> list[str]:
    return [o.email for o in declaration.operators]


async def test_a_decline_ends_the_consultation(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        handle = await drafting(time_env, declaration, task_queue)
        v1 = await submit(handle, "# Agreement\n", "# Acuerdo\n")
        await delivered(handle, "approval_request")
        with pytest.raises(WorkflowUpdateFailedError) as no_reason:
            await decide(handle, US_LEAD, v1, Decision.DECLINE)
        await decide(handle, US_LEAD, v1, Decision.DECLINE, "Financing terms unacceptable")
        result = await handle.result()
        await received(outbox, declaration.id, "declined", len(everyone(declaration)))
    assert "decline needs a comment" in str(no_reason.value.cause)
    assert result.stage is Stage.DECLINED
    declined = notices_of(outbox, declaration.id, "declined")
    assert recipients(declined) == everyone(declaration)
    assert all("Financing terms unacceptable" in body(m) for m in declined)


async def test_an_operators_decision_naming_no_version_is_on_the_current_one_and_a_links_is_refused(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        handle = await drafting(time_env, declaration, task_queue)
        v1 = await submit(handle, "# Agreement\n", "# Acuerdo\n")
        await delivered(handle, "approval_request")
        by_link = DecisionRequest(
            approver=US_LEAD, decision=Decision.APPROVE, channel=Channel.EMAIL_LINK, recorded_by=US_LEAD
        )
        with pytest.raises(WorkflowUpdateFailedError) as versionless_link:
            await handle.execute_update(Consultation.decide, by_link)
        on_behalf = DecisionRequest(approver=US_LEAD, decision=Decision.APPROVE, recorded_by=CL_OPERATOR)
        record = await handle.execute_update(Consultation.decide, on_behalf)
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await handle.execute_update(Consultation.decide, on_behalf)
        status = await handle.query(Consultation.status)
    assert "a decision through a link must name the version it is on" in str(versionless_link.value.cause)
    assert (record.version, record.sha256, record.recorded_by) == (1, v1, CL_OPERATOR)
    assert "already recorded" in str(again.value.cause)  # the same words twice: one decision
    assert [(d.approver, d.version, d.sha256) for d in status.agreement_decisions] == [(US_LEAD, 1, v1)]


async def test_drafts_only_while_drafting(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        round_ = await open_round(time_env, declaration, task_queue)
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await submit(round_.consultation, "# A\n", "# A\n")
        status = await round_.consultation.query(Consultation.status)
    assert "drafts are submitted while drafting the agreement (stage technical_rounds)" in str(early.value.cause)
    assert status.drafts == []


async def test_a_whole_lifecycle_is_fast_and_keeps_the_consultation_history_small(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    from datetime import timedelta
    from time import monotonic

    from schemas.consultation import OpenRoundRequest

    began = monotonic()
    declaration = two_approver_declaration(await time_env.get_current_time())
    async with running_worker(time_env.client, outbox) as task_queue:
        first = await open_round(time_env, declaration, task_queue)
        await close_round_with_approval(first)
        await eventually(lambda: round_closed(first.consultation))
        handle = first.consultation
        now = await time_env.get_current_time()
        await handle.execute_update(
            Consultation.open_round,
            OpenRoundRequest(
                meeting_at=now + timedelta(days=10),
                inputs_due=now + timedelta(days=8),
                pillars=AGENDA,
                requested_by=CL_OPERATOR,
            ),
        )
        second = Round(time_env.client, handle, number=2)
        await eventually(lambda: round_exists(second))
        await close_round_with_approval(second)

        async def both_closed() -> ConsultationStatus | None:
            s = await handle.query(Consultation.status)
            return s if len(s.rounds) == 2 and s.rounds[1].state is RoundState.CLOSED else None

        await eventually(both_closed)
        await handle.execute_update(Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR))
        sha = await submit(handle, "# Agreement\n", "# Acuerdo\n")
        await delivered(handle, "approval_request")
        for approver in APPROVERS:
            await decide(handle, approver, sha)
        result = await handle.result()
        wall = monotonic() - began
        history = await handle.fetch_history()

    assert result.stage is Stage.CONCLUDED and len(result.rounds) == 2
    assert wall < 5.0, f"the lifecycle took {wall:.1f} s of wall time"
    assert len(history.events) < 400, f"the consultation's history has {len(history.events)} events"

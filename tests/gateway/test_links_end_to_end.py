"""Counterparts acting through the links in their email: real Temporal dev server, worker, SMTP and
gateway over HTTP. The links are read from the mail the SMTP server received."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import Stage, StartDraftingRequest, SubmitDraftRequest
from schemas.declaration import Declaration, Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT, Channel
from schemas.rounds import CloseRoundRequest, RoundState, RoundStatus, SubmitInputRequest
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    US_LEAD,
    declaration_data,
    eventually,
    notices_of,
    running_worker,
    start_with_round,
)
from tests.helpers.gateway import Gateway, link_in
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound

DAY = timedelta(days=1)


async def round_status(handle: WorkflowHandle[Any, Any]) -> RoundStatus:
    return await handle.query(TechnicalRound.status)


async def test_a_round_through_email_links(dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    cid = declaration.id
    async with running_worker(client, outbox, gateway.signer, gateway.url) as task_queue:
        _, round_handle = await start_with_round(client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: notices_of(outbox, cid, "input_request"))
        async with httpx.AsyncClient() as http:
            # The technical lead opens their link, then the financing form, and submits it.
            input_link = link_in(outbox, cid, "input_request", CL_LEAD)
            overview = await http.get(input_link)
            assert (
                overview.status_code == 200 and "Financiamiento" in overview.text and "aún no enviado" in overview.text
            )
            form_url = f"{input_link}/input/financing"
            form = await http.get(form_url)
            assert form.status_code == 200 and 'name="summary"' in form.text
            bad = await http.post(
                form_url,
                data={
                    "rows": "1",
                    "summary": "",
                    "items-0-instrument": "Guarantee",
                    "items-0-amount_usd": "-1",
                    "items-0-public_share_pct": "50",
                    "action": "submit",
                },
            )
            assert bad.status_code == 422 and "Guarantee" in bad.text  # what was typed is kept
            # Field errors in the reader's language (Spanish here), beside the fields.
            assert "Debe ser mayor o igual que 0." in bad.text and "Debe tener al menos 1 carácter." in bad.text
            assert (await round_status(round_handle)).submissions == []
            added = await http.post(
                form_url,
                data={
                    "rows": "1",
                    "summary": "Blended",
                    "items-0-instrument": "Guarantee",
                    "items-0-amount_usd": "5",
                    "items-0-public_share_pct": "50",
                    "action": "add",
                },
            )
            assert added.status_code == 200 and 'name="items-1-instrument"' in added.text
            done = await http.post(  # then redirected to the overview (a reload cannot post twice)
                form_url,
                data={
                    "rows": "1",
                    "summary": "Blended facility",
                    "items-0-instrument": "Guarantee",
                    "items-0-amount_usd": "500000000",
                    "items-0-public_share_pct": "60",
                    "action": "submit",
                },
            )
            assert done.status_code == 303
            overview = await http.get(str(httpx.URL(input_link).join(done.headers["location"])))
            assert "Su aporte quedó registrado" in overview.text and "enviado (revisión 1)" in overview.text
            status = await round_status(round_handle)
            (record,) = status.submissions
            assert (record.channel, record.submitted_by, record.input.author) == (Channel.EMAIL_LINK, CL_LEAD, CL_LEAD)

            # The US input arrives from the secretariat; then the round is closed for minutes.
            us = PILLAR_INPUT.validate_python(
                {"party": "US", "pillar": "financing", "author": US_LEAD, "summary": "DFC"}
            )
            await round_handle.execute_update(
                TechnicalRound.submit_input, SubmitInputRequest(input=us, submitted_by=CL_OPERATOR)
            )
            await eventually(lambda: _in_state(round_handle, RoundState.MINUTES_APPROVAL))
            await eventually(lambda: notices_of(outbox, cid, "approval_request"))
            late = await http.get(form_url)
            assert late.status_code == 409

            # The approver's link: GET and HEAD show, change nothing.
            approve_link = link_in(outbox, cid, "approval_request", CL_APPROVER)
            page = await http.get(approve_link)
            minutes = (await round_status(round_handle)).minutes[-1]
            assert page.status_code == 200 and minutes.sha256 in page.text
            assert (
                "Aprobar" in page.text
                and "Solicitar cambios" in page.text
                and "Acta de la ronda técnica 1" in page.text
            )
            assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert (await http.head(approve_link)).status_code == 200
            assert (await round_status(round_handle)).decisions == []

            no_comment = await http.post(
                f"{approve_link}/decision", data={"decision": "request_changes", "comment": ""}
            )
            assert no_comment.status_code == 400 and (await round_status(round_handle)).decisions == []
            approved = await http.post(f"{approve_link}/decision", data={"decision": "approve"})
            assert approved.status_code == 200 and "Su decisión quedó registrada" in approved.text
            # The same form posted again (a reload, a retry) records nothing more and says the same.
            again = await http.post(f"{approve_link}/decision", data={"decision": "approve"})
            assert again.status_code == 200 and again.text == approved.text
            # Another decision after it is refused, saying what is recorded.
            other = await http.post(f"{approve_link}/decision", data={"decision": "request_changes", "comment": "x"})
            assert other.status_code == 409 and "Ya registrado" in other.text and "Carolina Fuentes" in other.text
            assert len((await round_status(round_handle)).decisions) == 1

            # Two clicks at once from the US approver: exactly one decision is recorded, both say so.
            us_link = link_in(outbox, cid, "approval_request", US_LEAD)
            first, second = await asyncio.gather(
                http.post(f"{us_link}/decision", data={"decision": "approve"}),
                http.post(f"{us_link}/decision", data={"decision": "approve"}),
            )
            assert [first.status_code, second.status_code] == [200, 200] and first.text == second.text
            final = await round_handle.result()

    assert [(d.approver, d.channel, d.recorded_by) for d in final.decisions] == [
        (CL_APPROVER, Channel.EMAIL_LINK, CL_APPROVER),
        (US_LEAD, Channel.EMAIL_LINK, US_LEAD),
    ]
    assert final.state is RoundState.CLOSED


async def _in_state(handle: WorkflowHandle[Any, Any], state: RoundState) -> bool:
    return (await round_status(handle)).state is state


async def test_links_that_cannot_be_trusted_are_refused(gateway: Gateway) -> None:
    from datetime import UTC, datetime

    from infra.links import LinkSigner, parse_keys
    from schemas.links import LinkPurpose, LinkSpec

    spec = LinkSpec(
        purpose=LinkPurpose.MINUTES_APPROVAL,
        workflow_id="consultation-none-round-1",
        consultation_id="none",
        round_number=1,
        version=1,
        sha256="0" * 64,
        expires_at=datetime.now(UTC) + DAY,
    )
    good = gateway.signer.sign(spec, CL_APPROVER)
    tampered = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    removed_key = LinkSigner(parse_keys("retired:" + "r" * 48)).sign(spec, CL_APPROVER)
    expired = gateway.signer.sign(spec.model_copy(update={"expires_at": datetime.now(UTC) - DAY}), CL_APPROVER)
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        for token in (tampered, removed_key, "not-a-token"):
            for response in (
                await http.get(f"/l/{token}"),
                await http.post(f"/l/{token}/decision", data={"decision": "approve"}),
            ):
                assert response.status_code == 400 and "not valid" in response.text
        gone = await http.get(f"/l/{expired}")
        assert gone.status_code == 410 and "expired" in gone.text
        # A valid link whose request no longer exists.
        missing = await http.get(f"/l/{good}")
        assert missing.status_code == 409 and "no longer open" in missing.text


async def test_an_approver_forwards_the_decision_to_a_colleague(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    cid = declaration.id
    async with running_worker(client, outbox, gateway.signer, gateway.url) as task_queue:
        _, round_handle = await start_with_round(client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: notices_of(outbox, cid, "input_request"))
        await round_handle.execute_update(
            TechnicalRound.close, CloseRoundRequest(reason="Meeting moved", requested_by=CL_OPERATOR)
        )
        await eventually(lambda: notices_of(outbox, cid, "approval_request"))
        async with httpx.AsyncClient() as http:
            own_link = link_in(outbox, cid, "approval_request", CL_APPROVER)
            page = await http.get(own_link)
            assert "Delegar en un colega" in page.text and CL_LEAD in page.text
            outsider = await http.post(f"{own_link}/delegate", data={"delegate": US_LEAD})
            assert outsider.status_code == 400 and "is not a colleague in party CL" in outsider.text
            made_up = await http.post(f"{own_link}/delegate", data={"delegate": "not an address"})
            assert made_up.status_code == 400 and "Elija un colega de la lista" in made_up.text
            assert "Carolina Fuentes" not in page.text.split("Delegar en un colega")[1]  # not offered to herself
            forwarded = await http.post(f"{own_link}/delegate", data={"delegate": CL_LEAD})
            assert forwarded.status_code == 200 and "Valentina Rojas" in forwarded.text

            await eventually(lambda: notices_of(outbox, cid, "delegated"))
            delegate_link = link_in(outbox, cid, "delegated", CL_LEAD)
            delegate_page = await http.get(delegate_link)
            assert (
                "en nombre de Carolina Fuentes" in delegate_page.text
                and "Delegar en un colega" not in delegate_page.text
            )
            decided = await http.post(
                f"{delegate_link}/decision", data={"decision": "request_changes", "comment": "Falta el monto"}
            )
            assert decided.status_code == 200
            again = await http.get(own_link)
            assert again.status_code == 409 and "Valentina Rojas (en nombre de Carolina Fuentes)" in again.text
        status = await round_status(round_handle)

    (decision,) = status.decisions
    assert (decision.approver, decision.delegate, decision.channel) == (CL_APPROVER, CL_LEAD, Channel.EMAIL_LINK)
    assert (decision.approver_name, decision.delegate_name) == ("Carolina Fuentes", "Valentina Rojas")
    assert status.approval is not None and status.approval.delegations[0].delegate == CL_LEAD


async def test_an_agreement_draft_is_decided_through_its_link(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now))
    cid = declaration.id
    async with running_worker(client, outbox, gateway.signer, gateway.url) as task_queue:
        handle, round_handle = await start_with_round(client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: notices_of(outbox, cid, "input_request"))
        await round_handle.execute_update(TechnicalRound.close, CloseRoundRequest(reason="r", requested_by=CL_OPERATOR))
        await eventually(lambda: _in_state(round_handle, RoundState.MINUTES_APPROVAL))
        sha = (await round_status(round_handle)).minutes[-1].sha256
        for approver in (CL_APPROVER, US_LEAD):
            await round_handle.execute_update(
                TechnicalRound.decide,
                DecisionRequest(approver=approver, decision=Decision.APPROVE, sha256=sha, recorded_by=CL_OPERATOR),
            )
        await round_handle.result()
        await eventually(lambda: _first_round_closed(handle))
        await handle.execute_update(Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR))
        await handle.execute_update(
            Consultation.submit_draft,
            SubmitDraftRequest(documents={Locale.ES: "# Acuerdo\n\nArtículo 1.\n"}, requested_by=CL_OPERATOR),
        )
        await eventually(lambda: notices_of(outbox, cid, "approval_request") and _draft_request(outbox, cid))
        async with httpx.AsyncClient() as http:
            link = link_in(outbox, cid, "approval_request", CL_APPROVER)
            page = await http.get(link)
            assert page.status_code == 200 and "Borrador del acuerdo" in page.text and "Rechazar" in page.text
            bare = await http.post(f"{link}/decision", data={"decision": "decline"})
            assert bare.status_code == 400
            declined = await http.post(f"{link}/decision", data={"decision": "decline", "comment": "Fuera de plazo"})
            assert declined.status_code == 200
        result = await handle.result()

    assert result.stage is Stage.DECLINED
    (decision,) = result.agreement_decisions
    assert (decision.approver, decision.decision, decision.channel) == (
        CL_APPROVER,
        Decision.DECLINE,
        Channel.EMAIL_LINK,
    )


def _draft_request(outbox: Outbox, cid: str) -> bool:
    return any("acuerdo" in m["Subject"].lower() for m in notices_of(outbox, cid, "approval_request"))


async def _first_round_closed(handle: WorkflowHandle[Any, Any]) -> bool:
    status = await handle.query(Consultation.status)
    return bool(status.rounds) and status.rounds[0].state is RoundState.CLOSED

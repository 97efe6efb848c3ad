"""Forms posted through links record once: a decision or an input posted twice (a reload, a double click,
a retry after a timeout) is recorded once and answered the same way both times, while a decision on a
version that was replaced is still explained (409). Real dev server, worker, SMTP and gateway over HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from gateway.app import create_app
from gateway.deps import VerifiedTokens
from gateway.render import document_html
from infra.i18n import Words
from infra.links import LinkError, LinkSigner, parse_keys
from schemas.declaration import Locale, Pillar
from schemas.links import LinkPurpose, LinkSpec
from schemas.pages import PageDocument
from schemas.rounds import CloseRoundRequest, ReissueMinutesRequest, RoundState
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    US_APPROVER_2,
    US_LEAD,
    body,
    eventually,
    running_worker,
    start_with_round,
    two_approver_declaration,
)
from tests.helpers.gateway import LINK_KEYS, Gateway, link_in, mail_to, recording, serving
from workflows.technical_round import TechnicalRound

MINUTES_V2 = {
    Locale.EN: "# Minutes of round 1, corrected\n\nThe financing amount is added.\n",
    Locale.ES: "# Acta de la ronda 1, corregida\n\nSe agrega el monto del financiamiento.\n",
}


async def test_a_decision_posted_twice_is_recorded_once_and_a_replaced_version_is_explained(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    declaration = two_approver_declaration(await dev_env.get_current_time())
    cid = declaration.id
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        _, round_handle = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: mail_to(outbox, cid, "input_request", CL_LEAD))
        await round_handle.execute_update(TechnicalRound.close, CloseRoundRequest(reason="r", requested_by=CL_OPERATOR))
        await eventually(
            lambda: all(mail_to(outbox, cid, "approval_request", a) for a in (CL_APPROVER, US_LEAD, US_APPROVER_2))
        )
        async with httpx.AsyncClient() as http:
            # Read, then decided twice: both answers say it is recorded, the same way.
            cl_link = link_in(outbox, cid, "approval_request", CL_APPROVER)
            assert (await http.get(cl_link)).status_code == 200
            first = await http.post(f"{cl_link}/decision", data={"decision": "approve"})
            second = await http.post(f"{cl_link}/decision", data={"decision": "approve"})
            assert first.status_code == second.status_code == 200 and first.text == second.text
            assert "Su decisión quedó registrada" in first.text

            # Posted twice without reading the page first: the same.
            us_link = link_in(outbox, cid, "approval_request", US_LEAD)
            changes = {"decision": "request_changes", "comment": "Add the amount"}
            first = await http.post(f"{us_link}/decision", data=changes)
            second = await http.post(f"{us_link}/decision", data=changes)
            assert first.status_code == second.status_code == 200 and first.text == second.text
            assert "Your decision is recorded" in first.text and "Changes requested" in first.text
            status = await round_handle.query(TechnicalRound.status)
            assert [(d.approver, d.version) for d in status.decisions] == [(CL_APPROVER, 1), (US_LEAD, 1)]

            # Version 2 replaces version 1: a decision sent from the old link is explained, not recorded.
            await eventually(lambda: _in_state(round_handle, RoundState.CHANGES_REQUESTED))
            await round_handle.execute_update(
                TechnicalRound.reissue_minutes, ReissueMinutesRequest(documents=MINUTES_V2, requested_by=CL_OPERATOR)
            )
            await eventually(lambda: len(mail_to(outbox, cid, "approval_request", US_APPROVER_2)) == 2)
            old_link = mail_link(outbox, cid, US_APPROVER_2, 0)
            stale = await http.post(f"{old_link}/decision", data={"decision": "approve"})
            assert stale.status_code == 409 and "Version 2 replaced this one" in stale.text
            assert (await http.get(old_link)).status_code == 409
            # The first decision's form, posted again now, is still the decision it was.
            again = await http.post(f"{cl_link}/decision", data={"decision": "approve"})
            assert again.status_code == 200 and "versión 1" in again.text

            # Each reader's page has the new version in their language.
            english = await http.get(link_in(outbox, cid, "approval_request", US_APPROVER_2))
            spanish = await http.get(link_in(outbox, cid, "approval_request", CL_APPROVER))
            assert english.status_code == spanish.status_code == 200
            assert "The financing amount is added." in english.text and "Se agrega" not in english.text
            assert "Se agrega el monto del financiamiento." in spanish.text and "is added" not in spanish.text

        status = await round_handle.query(TechnicalRound.status)
    assert [(d.approver, d.version) for d in status.decisions] == [(CL_APPROVER, 1), (US_LEAD, 1)]


async def test_a_decision_through_a_link_is_one_request_to_temporal_answered_in_the_readers_words(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    """A link says how its reader reads (their language, the consultation's zone), signed in by the notice
    that carries it: a decision posted from it is answered without reading the page first, as one update.
    A link signed before links said so (still in people's inboxes) is answered the same, reading the page."""
    santiago = timezone(timedelta(hours=-3))  # not UTC, which a date formatted in no zone would show
    declaration = two_approver_declaration((await dev_env.get_current_time()).astimezone(santiago))
    cid = declaration.id
    signer = LinkSigner(parse_keys(LINK_KEYS))
    recorder, clients = recording(dev_env.client)
    async with (
        serving(create_app(signer=signer, clients=clients)) as url,
        running_worker(dev_env.client, outbox, signer, url) as task_queue,
    ):
        _, round_handle = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: mail_to(outbox, cid, "input_request", CL_LEAD))
        await round_handle.execute_update(TechnicalRound.close, CloseRoundRequest(reason="r", requested_by=CL_OPERATOR))
        readers = (CL_APPROVER, US_APPROVER_2)
        await eventually(lambda: all(mail_to(outbox, cid, "approval_request", a) for a in readers))
        cl_link = link_in(outbox, cid, "approval_request", CL_APPROVER)
        emailed = signer.verify(cl_link.rsplit("/", 1)[1])
        assert (emailed.locale, emailed.utc_offset_minutes) == (Locale.ES, -180)
        # A link to the same request signed before links said how their reader reads.
        earlier_spec = LinkSpec(**emailed.model_dump(exclude={"recipient", "locale", "utc_offset_minutes"}))
        earlier_link = f"{url}/l/{signer.sign(earlier_spec, US_APPROVER_2)}"
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{cl_link}/decision", data={"decision": "approve"})
            assert recorder.names == ["decide"], recorder.calls
            recorder.calls.clear()
            earlier = await http.post(f"{earlier_link}/decision", data={"decision": "approve"})
            assert sorted(recorder.names) == ["decide", "link_page"], recorder.calls
        status = await round_handle.query(TechnicalRound.status)
    for response, approver, locale, words in (
        (answer, CL_APPROVER, Locale.ES, "Su decisión quedó registrada"),
        (earlier, US_APPROVER_2, Locale.EN, "Your decision is recorded"),
    ):
        record = next(d for d in status.decisions if d.approver == approver)
        assert response.status_code == 200, response.text
        assert words in response.text
        assert Words(locale).when(record.at, santiago) in response.text


def mail_link(outbox: Outbox, cid: str, recipient: str, index: int) -> str:
    """The link in one person's approval request, the `index`-th they received."""
    message = mail_to(outbox, cid, "approval_request", recipient)[index]
    return str(re.findall(r"https?://\S+/l/\S+", body(message))[0])


async def _in_state(handle: WorkflowHandle[Any, Any], state: RoundState) -> bool:
    return (await handle.query(TechnicalRound.status)).state is state


def _revision(form: httpx.Response) -> str:
    found = re.search(r'name="revision" value="(\d+)"', form.text)
    assert found, form.text
    return found.group(1)


async def test_an_input_posted_twice_is_recorded_once_and_an_earlier_text_again_is_a_new_revision(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    declaration = two_approver_declaration(await dev_env.get_current_time())
    cid = declaration.id
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        _, round_handle = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: mail_to(outbox, cid, "input_request", CL_LEAD))
        form_url = f"{link_in(outbox, cid, 'input_request', CL_LEAD)}/input/financing"
        async with httpx.AsyncClient() as http:

            async def post(summary: str) -> list[httpx.Response]:
                form = await http.get(form_url)
                data = {"rows": "0", "summary": summary, "action": "submit", "revision": _revision(form)}
                return [await http.post(form_url, data=data), await http.post(form_url, data=data)]

            first, again = await post("Blended facility")
            assert first.status_code == again.status_code == 303
            assert first.headers["location"] == again.headers["location"] and "revision=1" in first.headers["location"]
            changed, _ = await post("A guarantee instead")
            assert "revision=2" in changed.headers["location"]
            back, _ = await post("Blended facility")  # the first text again, from a form opened after it
            assert "revision=3" in back.headers["location"]
        status = await round_handle.query(TechnicalRound.status)
    assert [(s.revision, s.input.summary) for s in status.submissions] == [
        (1, "Blended facility"),
        (2, "A guarantee instead"),
        (3, "Blended facility"),
    ]


def test_a_documents_html_is_made_once_per_version_and_language() -> None:
    document = PageDocument(version=1, sha256="a" * 64, locale=Locale.ES, text="# Acta\n\n| a | b |\n|---|---|\n")
    html = document_html(document)
    assert "<h1>Acta</h1>" in html and "<table>" in html
    assert document_html(document.model_copy()) is html
    other = document_html(document.model_copy(update={"locale": Locale.EN, "text": "# Minutes\n"}))
    assert "<h1>Minutes</h1>" in other


async def test_a_verified_token_is_checked_for_expiry_on_every_use() -> None:
    signer = LinkSigner(parse_keys(LINK_KEYS))
    spec = LinkSpec(
        purpose=LinkPurpose.MINUTES_APPROVAL,
        workflow_id="consultation-x-round-1",
        consultation_id="x",
        round_number=1,
        version=1,
        sha256="0" * 64,
        expires_at=datetime.now(UTC) + timedelta(seconds=1),
    )
    token = signer.sign(spec, CL_APPROVER)
    tokens = VerifiedTokens(signer)
    assert tokens.verify(token) == tokens.verify(token) == signer.verify(token)
    with pytest.raises(LinkError):
        tokens.verify(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    await asyncio.sleep(1.2)
    with pytest.raises(LinkError) as expired:
        tokens.verify(token)
    assert expired.value.expired

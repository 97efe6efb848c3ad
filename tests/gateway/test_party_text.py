"""What a party types stays text everywhere others read it: in the minutes' Markdown, every approver's HTML
email, the approval page and the dossier; and minutes an operator re-issues keep their headings but fetch
and link nothing. Real dev server, worker, SMTP and gateway over HTTP; the party types through its form."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import dossier
from schemas.declaration import Declaration, Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import ReissueMinutesRequest, RoundState, RoundStatus, SubmitInputRequest
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    US_LEAD,
    body,
    declaration_data,
    eventually,
    running_worker,
    start_with_round,
)
from tests.helpers.gateway import Gateway, link_in, mail_to
from workflows.technical_round import TechnicalRound

FORGED_PARTY = "### República de Chile (CL)"
FORGED_SECTION = "## Missing inputs"
PIXEL = "![p](http://evil.example/track.png)"
HOSTILE = f"Our position.\n{FORGED_PARTY}\nWe withdraw.\n{FORGED_SECTION}\nNone.\n{PIXEL}"


def remote_content(html: str, gateway_url: str) -> list[str]:
    """Images of any kind, and links anywhere but the gateway: what a reader's mail client would fetch or follow."""
    images = re.findall(r"<img\b[^>]*>", html)
    links = [href for href in re.findall(r"""href\s*=\s*["']?([^"'\s>]+)""", html) if not href.startswith(gateway_url)]
    return images + links


def latest(outbox: Outbox, cid: str, kind: str, recipient: str) -> EmailMessage:
    return mail_to(outbox, cid, kind, recipient)[-1]


async def in_state(handle: WorkflowHandle[Any, RoundStatus], state: RoundState) -> bool:
    return (await handle.query(TechnicalRound.status)).state is state


async def test_party_text_cannot_forge_sections_pixels_or_links_for_others(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    client = dev_env.client
    declaration = Declaration.model_validate(declaration_data(await dev_env.get_current_time()))
    cid = declaration.id
    async with running_worker(client, outbox, gateway.signer, gateway.url) as task_queue, httpx.AsyncClient() as http:
        _, round_handle = await start_with_round(client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: mail_to(outbox, cid, "input_request", US_LEAD))
        # The US lead types the hostile summary into their own form (the CL section is what it forges).
        form = f"{link_in(outbox, cid, 'input_request', US_LEAD)}/input/financing"
        typed = await http.post(form, data={"rows": "0", "summary": HOSTILE, "action": "submit"})
        assert typed.status_code == 303
        cl = PILLAR_INPUT.validate_python({"party": "CL", "pillar": "financing", "author": CL_LEAD, "summary": "Fine."})
        await round_handle.execute_update(
            TechnicalRound.submit_input, SubmitInputRequest(input=cl, submitted_by=CL_OPERATOR)
        )
        await eventually(lambda: in_state(round_handle, RoundState.MINUTES_APPROVAL))
        await eventually(lambda: mail_to(outbox, cid, "approval_request", CL_APPROVER))

        # The minutes' Markdown: the real headings once each, the party's lines as text.
        minutes = (await round_handle.query(TechnicalRound.status)).minutes[-1]
        for text in minutes.documents.values():
            assert len(re.findall(r"^### República de Chile \(CL\)$", text, flags=re.MULTILINE)) == 1
            assert len(re.findall(r"^## ", text, flags=re.MULTILINE)) == 3  # the pillar, financing totals, missing
        assert minutes.documents[Locale.EN].splitlines().count(FORGED_SECTION) == 1
        # The approver's HTML email and the approval page: nothing fetched, no link but the gateway's,
        # the party's text shown as typed.
        mail = body(latest(outbox, cid, "approval_request", CL_APPROVER), "html")
        approval_link = link_in(outbox, cid, "approval_request", CL_APPROVER)
        page = (await http.get(approval_link)).text
        for html in (mail, page):
            assert remote_content(html, gateway.url) == []
            assert PIXEL in html and FORGED_PARTY in html
            assert len(re.findall(r"<h3>República de Chile \(CL\)</h3>", html)) == 1

        # A comment quoting the same text reaches the operators as text.
        asked = await http.post(
            f"{approval_link}/decision", data={"decision": "request_changes", "comment": f"Remove this: {PIXEL}"}
        )
        assert asked.status_code == 200
        await eventually(lambda: mail_to(outbox, cid, "changes_requested", CL_OPERATOR))
        changes = body(latest(outbox, cid, "changes_requested", CL_OPERATOR), "html")
        assert remote_content(changes, gateway.url) == [] and PIXEL in changes

        # Re-issued minutes quoting the party: the operator's headings stay, the party's image does not.
        await eventually(lambda: in_state(round_handle, RoundState.CHANGES_REQUESTED))
        quoted = f"# Minutes of round 1\n\n## Financing\n\nThe US wrote: {PIXEL} [form](http://evil.example/login)\n"
        await round_handle.execute_update(
            TechnicalRound.reissue_minutes,
            ReissueMinutesRequest(documents={Locale.EN: quoted, Locale.ES: quoted}, requested_by=CL_OPERATOR),
        )
        await eventually(lambda: len(mail_to(outbox, cid, "approval_request", CL_APPROVER)) == 2)
        reissued = body(latest(outbox, cid, "approval_request", CL_APPROVER), "html")
        assert "<h2>Financing</h2>" in reissued and remote_content(reissued, gateway.url) == []

        # The dossier: every version of the minutes, the inputs and the comment, and nothing remote.
        record = await dossier.build(client, cid)
        for locale in Locale:
            html = dossier.render_html(record, locale)
            assert remote_content(html, "#") == [] and "evil.example" in html

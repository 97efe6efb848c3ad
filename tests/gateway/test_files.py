"""Files through the gateway: a technical lead attaches them in a real browser, an approver downloads
them through the links in their email, and what cannot be attached or downloaded is refused clearly."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from infra.files import record_file
from infra.links import LinkSigner, parse_keys
from operations.consultations import round_of
from schemas.approvals import Decision
from schemas.consultation import ConsultationStatus
from schemas.declaration import Locale, Pillar
from schemas.links import FileLinkSpec, FileLocation
from schemas.rounds import CloseRoundRequest, ReissueMinutesRequest, RoundStatus
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    Round,
    body,
    eventually,
    make_declaration,
    running_worker,
    start_with_round,
)
from tests.helpers.gateway import Gateway, link_in, mail_to
from tests.infra import samples
from workflows.technical_round import TechnicalRound

pytestmark = pytest.mark.files


def project_list() -> bytes:
    """A real workbook (openpyxl): the party's project list."""
    return samples.xlsx(
        [
            ("Proyecto", "Mineral", "Inversión (USD)"),
            ("Salar de Maricunga DLE", "litio", 1_200_000_000),
            ("Piloto de tierras raras", "neodimio", 85_000_000),
        ]
    )


FILE_LINK = re.compile(r"https?://\S+/files/[^\s\"<]+")


def file_links(message: EmailMessage) -> list[str]:
    """The file links of a message: the same in its text and its HTML part."""
    text = FILE_LINK.findall(body(message))
    html = FILE_LINK.findall(body(message, "html"))
    assert text and text == html, (text, html)
    return list(text)


def disposition_name(response: httpx.Response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded, disposition
    return unquote(encoded[1])


@dataclass
class InputRound:
    """A consultation with round 1 open on financing, and the Chilean lead's input link."""

    consultation: WorkflowHandle[Any, ConsultationStatus]
    round: Round
    consultation_id: str
    link: str

    async def status(self) -> RoundStatus:
        return await self.round.status()


@pytest_asyncio.fixture
async def input_round(dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway) -> AsyncIterator[InputRound]:
    declaration = make_declaration(await dev_env.get_current_time())
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        handle, _ = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: mail_to(outbox, declaration.id, "input_request", CL_LEAD))
        link = link_in(outbox, declaration.id, "input_request", CL_LEAD)
        yield InputRound(handle, Round(dev_env.client, handle), declaration.id, link)


async def _where_the_minutes_are(env: WorkflowEnvironment, input_round: InputRound) -> str:
    """Why no approval request came (this wait once timed out on a slow run): where the close → minutes →
    delivery chain stands, with each notice's delivery as `consult round status` shows it."""
    current = await round_of(env.client, input_round.round.handle.id, 1)
    notices = [(n.kind, n.state.value, n.pending_reason or n.error) for n in current.notices]
    state = f"round {current.state.value}, {len(current.minutes)} minutes"
    return f"no approval request within the wait: {state}, notices {notices}"


async def test_a_lead_attaches_a_pdf_and_an_xlsx_and_an_approver_downloads_them_byte_for_byte(
    dev_env: WorkflowEnvironment,
    outbox: Outbox,
    gateway: Gateway,
    browser: Browser,
    input_round: InputRound,
    tmp_path: Path,
) -> None:
    paper, projects = tmp_path / "posición-chile.pdf", tmp_path / "proyectos.xlsx"
    paper.write_bytes(samples.pdf("Posicion de Chile: financiamiento"))
    projects.write_bytes(project_list())
    sent = {paper.name: paper.read_bytes(), projects.name: projects.read_bytes()}

    page = await browser.new_page(locale="es-CL")
    await page.goto(input_round.link)
    await page.get_by_role("link", name=re.compile("Abrir el formulario")).click()
    await page.locator("#summary").fill("Garantías de préstamo para refinación de litio.")
    await page.locator("#items-0-instrument").fill("Garantía de préstamo")
    await page.locator("#items-0-amount_usd").fill("400.000.000")
    await page.locator("#items-0-public_share_pct").fill("50")
    file_input = page.locator("#attachments")
    assert "application/pdf" in (await file_input.get_attribute("accept") or "")
    await file_input.set_input_files([paper, projects])
    await page.get_by_role("button", name="Enviar").click()
    await page.get_by_text("Su aporte quedó registrado").wait_for()

    # The round shows them: names, sizes, types from their content, SHA-256s, who attached them.
    (record,) = (await input_round.status()).submissions
    attached = {f.name: f for f in record.input.attachments}
    assert set(attached) == set(sent)
    for name, data in sent.items():
        assert attached[name].sha256 == hashlib.sha256(data).hexdigest() and attached[name].size == len(data)
        assert attached[name].attached_by == CL_LEAD
    assert attached[projects.name].media_type.label == "XLSX" and attached[paper.name].media_type.label == "PDF"

    # The form again lists them, each with a "keep" box ticked.
    await page.goto(f"{input_round.link}/input/financing")
    for name in sent:
        assert await page.get_by_label(f"Conservar {name}").is_checked()

    # Inputs close: the minutes go to the approvers, listing each input's files with a link of their own.
    await input_round.round.handle.execute_update(
        TechnicalRound.close, CloseRoundRequest(reason="Reunión adelantada", requested_by=CL_OPERATOR)
    )
    cid = input_round.consultation_id
    try:
        await eventually(lambda: mail_to(outbox, cid, "approval_request", CL_APPROVER))
    except AssertionError:
        raise AssertionError(await _where_the_minutes_are(dev_env, input_round)) from None
    message = mail_to(outbox, cid, "approval_request", CL_APPROVER)[-1]
    assert not [part for part in message.iter_attachments() if part.get_content_type() != "text/calendar"]
    text = body(message)
    for name, data in sent.items():
        assert name in text and hashlib.sha256(data).hexdigest() in text
    links = file_links(message)
    assert len(links) == 2
    async with httpx.AsyncClient(timeout=30) as http:
        received = {}
        for link in links:
            response = await http.get(link)
            assert response.status_code == 200, response.text[:300]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in response.headers["content-security-policy"]
            received[disposition_name(response)] = (response.content, response.headers["content-type"])
        assert {name: data for name, (data, _) in received.items()} == sent
        assert received[projects.name][1].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
        # Another person's link to the same file is theirs: the approver's page links are signed for them.
        approval = await http.get(link_in(outbox, cid, "approval_request", CL_APPROVER))
        assert approval.status_code == 200 and all(name in approval.text for name in sent)
        page_links = re.findall(r'href="/files/([^"]+)"', approval.text)
        assert len(page_links) == 2
        for token in page_links:
            assert gateway.signer.verify_file(token).recipient == CL_APPROVER
        from_page = [(await http.get(f"{gateway.url}/files/{token}")).content for token in page_links]
        assert sorted(from_page) == sorted(sent.values())

        # Changes requested, and the minutes re-issued with an annex: the new request lists it, and the
        # page says the decision covers the document and its annexes, with the version's SHA-256.
        await input_round.round.decide(CL_APPROVER, Decision.REQUEST_CHANGES, "Falta el anexo financiero")
        annex_bytes = samples.pdf("Anexo financiero")
        annex = await record_file(
            dev_env.client.data_converter,
            "anexo-financiero.pdf",
            annex_bytes,
            attached_by=CL_OPERATOR,
            attached_at=datetime.now(UTC),
        )
        reissued = await input_round.round.handle.execute_update(
            TechnicalRound.reissue_minutes,
            ReissueMinutesRequest(
                documents={Locale.ES: "# Acta\n\nCon anexo.", Locale.EN: "# Minutes\n\nWith annex."},
                requested_by=CL_OPERATOR,
                annexes=[annex],
            ),
        )
        await eventually(lambda: len(mail_to(outbox, cid, "approval_request", CL_APPROVER)) >= 2)
        second = mail_to(outbox, cid, "approval_request", CL_APPROVER)[-1]
        assert "Anexos" in body(second) and reissued.sha256 in body(second)
        annex_link = next(link for link in file_links(second) if link not in links)
        downloaded = await http.get(annex_link)
        assert downloaded.status_code == 200 and downloaded.content == annex_bytes
        assert disposition_name(downloaded) == "anexo-financiero.pdf"
        page_v2 = await http.get(link_in(outbox, cid, "approval_request", CL_APPROVER))
        assert "anexo-financiero.pdf" in page_v2.text
        assert f"abarca el documento y sus anexos en conjunto: su SHA-256 {reissued.sha256}" in page_v2.text


async def test_refused_files_are_named_on_a_page_and_nothing_is_recorded(
    input_round: InputRound, tmp_path: Path
) -> None:
    form = {
        "rows": "1",
        "summary": "Garantías",
        "action": "submit",
        "revision": "0",
        "items-0-instrument": "Garantía",
        "items-0-amount_usd": "1000",
        "items-0-public_share_pct": "50",
    }
    url = f"{input_round.link}/input/financing"
    executable = samples.windows_exe()  # named as a PDF
    large = tmp_path / "censo-minero.pdf"
    with large.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        out.truncate(26 * 1024 * 1024)
    async with httpx.AsyncClient(timeout=60, headers={"Accept-Language": "es"}) as http:
        renamed = await http.post(
            url, data=form, files=[("attachments", ("informe.pdf", executable, "application/pdf"))]
        )
        assert renamed.status_code == 415
        assert (
            "informe.pdf no es un archivo PDF, DOCX, XLSX, ODT, ODS, CSV, PNG o JPEG según su contenido" in renamed.text
        )
        with large.open("rb") as stream:
            too_large = await http.post(
                url, data=form, files=[("attachments", (large.name, stream, "application/pdf"))]
            )
        assert too_large.status_code == 413
        assert "censo-minero.pdf pesa 26 MB; cada archivo puede tener como máximo 25 MB." in too_large.text
        # A good file beside a bad one: nothing of either is recorded.
        mixed = await http.post(
            url,
            data=form,
            files=[
                ("attachments", ("bueno.pdf", samples.pdf("ok"), "application/pdf")),
                ("attachments", ("tabla.pdf", project_list(), "application/pdf")),
            ],
        )
        assert mixed.status_code == 422 and "tabla.pdf es un archivo XLSX según su contenido" in mixed.text
        assert "llámelo tabla.xlsx" in mixed.text
        # What was typed is kept, for the reader to choose the files again.
        assert "Garantías" in mixed.text
    assert (await input_round.status()).submissions == []


async def test_file_links_open_only_the_file_they_name_for_the_reader_they_name(
    dev_env: WorkflowEnvironment, gateway: Gateway, input_round: InputRound
) -> None:
    data = samples.pdf("Posicion")
    async with httpx.AsyncClient(timeout=30, headers={"Accept-Language": "en"}) as http:
        submitted = await http.post(
            f"{input_round.link}/input/financing",
            data={
                "rows": "1",
                "summary": "Loans",
                "action": "submit",
                "revision": "0",
                "items-0-instrument": "Loan",
                "items-0-amount_usd": "1000",
                "items-0-public_share_pct": "50",
            },
            files=[("attachments", ("position.pdf", data, "application/pdf"))],
        )
        assert submitted.status_code == 303, submitted.text[:500]
        (record,) = (await input_round.status()).submissions
        (attached,) = record.input.attachments
        where = FileLocation(party="CL", pillar=Pillar.FINANCING, revision=1)
        spec = FileLinkSpec(
            workflow_id=input_round.round.handle.id,
            consultation_id=input_round.consultation_id,
            sha256=attached.sha256,
            where=where,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )

        async def get(token: str) -> httpx.Response:
            return await http.get(f"{gateway.url}/files/{token}")

        ok = await get(gateway.signer.sign_file(spec, CL_APPROVER))
        assert ok.status_code == 200 and ok.content == data
        # Someone who is not in the consultation: the signature is good, the reader is not.
        stranger = await get(gateway.signer.sign_file(spec, "someone@elsewhere.example"))
        assert stranger.status_code == 400 and "This link is not valid" in stranger.text
        # The same file said to be elsewhere (another revision, another party): not there.
        elsewhere = spec.model_copy(update={"where": FileLocation(party="US", pillar=Pillar.FINANCING, revision=1)})
        moved = await get(gateway.signer.sign_file(elsewhere, CL_APPROVER))
        assert moved.status_code == 404 and "Este archivo no está disponible" in moved.text  # the reader's language
        other = spec.model_copy(update={"sha256": hashlib.sha256(b"another file").hexdigest()})
        assert (await get(gateway.signer.sign_file(other, CL_APPROVER))).status_code == 404
        # Forged (another key), cut, a page token used as a file token, expired.
        forger = LinkSigner(parse_keys(f"forged:{uuid.uuid4().hex}{uuid.uuid4().hex}"))
        assert (await get(forger.sign_file(spec, CL_APPROVER))).status_code == 400
        assert (await get(gateway.signer.sign_file(spec, CL_APPROVER)[:-3])).status_code == 400
        assert (await get(input_round.link.rsplit("/", 1)[-1])).status_code == 400
        # ...and a file token opens no page.
        as_page = await http.get(f"{gateway.url}/l/{gateway.signer.sign_file(spec, CL_APPROVER)}")
        assert as_page.status_code == 400
        expired = spec.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(days=1)})
        gone = await get(gateway.signer.sign_file(expired, CL_APPROVER))
        assert gone.status_code == 410 and "Este enlace expiró" in gone.text
        # A file link is never rendered inline, and is not a page of ours.
        assert ok.headers["content-disposition"] == (
            "attachment; filename=\"position.pdf\"; filename*=UTF-8''position.pdf"
        )

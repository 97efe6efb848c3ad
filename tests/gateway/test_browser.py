"""The link pages in a real browser: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from schemas.declaration import Pillar
from schemas.pillar_inputs import Channel
from tests.helpers import CL_LEAD, eventually, make_declaration, notices_of, running_worker, start_with_round
from tests.helpers.gateway import Gateway, link_in
from workflows.technical_round import TechnicalRound, round_workflow_id

DAY = timedelta(days=1)


async def test_a_technical_lead_fills_the_form_on_a_phone(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway, browser: Browser, tmp_path: Path
) -> None:
    now = await dev_env.get_current_time()
    declaration = make_declaration(now)
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        handle, _ = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.STRATEGIC_PROJECTS])
        await eventually(lambda: notices_of(outbox, declaration.id, "input_request"))
        link = link_in(outbox, declaration.id, "input_request", CL_LEAD)

        page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL")  # a phone
        await page.goto(link)
        await page.get_by_role("link", name=re.compile("Abrir el formulario")).click()
        await page.get_by_label("Resumen").fill("Dos proyectos cierran brechas en litio y tierras raras.")
        await page.get_by_label("Proyecto").fill("Salar de Maricunga DLE")
        await page.get_by_label("Minerales (separados por comas)").fill("litio")
        await page.get_by_label("Ubicación").fill("Región de Atacama")
        await page.get_by_label("Inversión (USD)").fill("1200000000")
        await page.get_by_label("Brecha de suministro").fill("Hidróxido de litio grado batería")
        await page.get_by_role("button", name="Agregar una fila").click()
        await page.locator("#items-1-name").fill("Piloto de separación de tierras raras")
        await page.locator("#items-1-minerals").fill("neodimio, unobtainium")
        await page.get_by_role("button", name="Enviar").click()
        # The validator's error is shown beside the field, and what was typed is kept.
        await page.get_by_text("'unobtainium' no figura en la lista de minerales críticos").wait_for()
        assert await page.locator("#items-0-name").input_value() == "Salar de Maricunga DLE"
        await page.get_by_role("button", name="Quitar").nth(1).click()
        await page.get_by_role("button", name="Enviar").click()
        await page.get_by_text("Su aporte quedó registrado").wait_for()
        await page.screenshot(path=tmp_path / "input-recorded.png", full_page=True)

        status = await dev_env.client.get_workflow_handle_for(
            TechnicalRound.run, round_workflow_id(handle.id, 1)
        ).query(TechnicalRound.status)

    (record,) = status.submissions
    assert record.channel is Channel.EMAIL_LINK and record.submitted_by == CL_LEAD
    assert [item.model_dump()["minerals"] for item in record.input.items] == [["lithium"]]
    assert (tmp_path / "input-recorded.png").stat().st_size > 0


@pytest.mark.parametrize("locale", ["en-US"])
async def test_an_invalid_link_is_a_clear_page_in_the_browser(gateway: Gateway, browser: Browser, locale: str) -> None:
    page = await browser.new_page(locale=locale)
    response = await page.goto(f"{gateway.url}/l/not-a-real-token")
    assert response is not None and response.status == 400
    assert await page.get_by_role("heading", name="This link is not valid").is_visible()

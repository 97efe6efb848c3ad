"""Every reader in their own language: complete catalogs, French as a catalog only, plurals and names per language."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.documents import MinutesRequest, minutes_markdown, render_minutes
from activities.email import render
from consult.outbox import Outbox
from infra import i18n
from operations import consultations as operations
from schemas.declaration import Declaration, Locale, Pillar
from schemas.notices import Notice, NoticeKind, Recipient
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import CloseRoundRequest
from tests.helpers import (
    CL_OPERATOR,
    body,
    declaration_data,
    delivered,
    eventually,
    minutes_request,
    notices_of,
    running_worker,
    start_with_round,
)
from workflows.technical_round import TechnicalRound

ROOT = Path(__file__).resolve().parents[2]
SENDER = "Consultations <consultations@consult.example>"
CLAIRE = Recipient(name="Claire Martin", email="claire.martin@diplomatie.example", locale=Locale.FR)
ANA = Recipient(name="Ana Pérez", email="ana@minrel.example", locale=Locale.ES)
JOHN = Recipient(name="John Doe", email="john@state.example", locale=Locale.EN)
FRENCH_WHEN = re.compile(
    r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4} "
    r"à \d\d:\d\d \(UTC[+-]\d\d:\d\d\)"
)


def test_every_language_has_a_complete_catalog() -> None:
    """The check a translator and CI run: nothing untranslated, stale, or with other placeholders."""
    check = subprocess.run(
        [sys.executable, "scripts/catalogs.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert {p.parent.parent.name for p in i18n.LOCALES_DIR.glob("*/LC_MESSAGES/messages.po")} == {
        locale.value for locale in Locale if locale is not i18n.SOURCE
    }


async def test_a_french_counterpart_receives_the_opening_notice_in_french(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    data = declaration_data(await dev_env.get_current_time())
    data["parties"][1]["counterparts"].append(
        {"name": CLAIRE.name, "email": CLAIRE.email, "roles": ["technical_lead"], "locale": "fr"}
    )
    declaration = Declaration.model_validate(data)
    async with running_worker(dev_env.client, outbox) as task_queue:
        handle = await operations.start(dev_env.client, declaration, task_queue)
        await delivered(handle, "opened")
    opened = notices_of(outbox, declaration.id, "opened")
    (french,) = [m for m in opened if m["To"].addresses[0].addr_spec == CLAIRE.email]
    assert french["Subject"] == f"Consultation ouverte : {declaration.title}"
    assert french["Content-Language"] == "fr"
    text = body(french)
    assert "Bonjour Claire Martin," in text
    assert "La consultation établie par la déclaration conjointe est ouverte." in text
    assert FRENCH_WHEN.search(text), text
    assert "Piliers : Résilience des chaînes d'approvisionnement" in text  # French puts a space before a colon
    assert "Financement" in body(french, "html")
    # Everyone else still reads their own language.
    spanish = next(m for m in opened if m["To"].addresses[0].addr_spec == "vrojas@minrel.example")
    assert spanish["Subject"].startswith("Consulta abierta:") and "Estimado/a Valentina Rojas:" in body(spanish)


def _reminder(days: int, *people: Recipient) -> Notice:
    return Notice(
        notice_id=f"c.00{days}.input_reminder",
        kind=NoticeKind.INPUT_REMINDER,
        consultation_id="c",
        title="T",
        issued_at=datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
        utc_offset_minutes=-180,
        recipients=list(people),
        parties=["CL", "US"],
        pillars=[Pillar.FINANCING],
        days_left=days,
        round_number=1,
        inputs_due=datetime(2026, 12, 8, 2, 59, tzinfo=UTC),
        missing=["CL/financing"],
    )


def test_plural_forms_follow_each_language() -> None:
    subjects = {
        (days, who.locale): render(_reminder(days, who), who, SENDER)["Subject"]
        for days in (1, 3)
        for who in (ANA, JOHN, CLAIRE)
    }
    assert subjects[1, Locale.ES] == "Recordatorio: queda 1 día para su aporte a la ronda 1 — T"
    assert subjects[3, Locale.ES] == "Recordatorio: quedan 3 días para su aporte a la ronda 1 — T"
    assert subjects[1, Locale.EN] == "Reminder: 1 day left for your round 1 input — T"
    assert subjects[3, Locale.EN] == "Reminder: 3 days left for your round 1 input — T"
    assert subjects[1, Locale.FR] == "Rappel : 1 jour pour votre contribution au cycle 1 — T"
    assert subjects[3, Locale.FR] == "Rappel : 3 jours pour votre contribution au cycle 1 — T"
    # The due date: 2026-12-08 02:59 UTC is still the 7th in the declaration's zone (UTC-3).
    assert "7 décembre 2026 à 23:59 (UTC-03:00)" in body(render(_reminder(3, CLAIRE), CLAIRE, SENDER))


def _minutes_request() -> MinutesRequest:
    inputs = [
        PILLAR_INPUT.validate_python(data)
        for data in (
            {
                "party": "CL",
                "author": "vrojas@minrel.example",
                "summary": "Atacama.",
                "pillar": "strategic_projects",
                "items": [
                    {
                        "name": "Salar",
                        "minerals": ["litio", "copper", "neodymium"],
                        "location": "Antofagasta",
                        "estimated_investment_usd": 1_200_000,
                        "supply_gap": "Refining",
                    }
                ],
            },
            {
                "party": "US",
                "author": "mturner@state.example",
                "summary": "DFC.",
                "pillar": "financing",
                "items": [{"instrument": "Loan", "amount_usd": 800_000_000, "public_share_pct": 50}],
            },
        )
    ]
    return minutes_request(inputs, [Pillar.STRATEGIC_PROJECTS, Pillar.FINANCING], ["US/strategic_projects"])


def test_minutes_name_minerals_and_write_numbers_the_readers_way() -> None:
    request = _minutes_request()
    english, spanish, french = (minutes_markdown(request, locale) for locale in (Locale.EN, Locale.ES, Locale.FR))
    assert "| Salar | lithium, copper, neodymium | Antofagasta | 1,200,000 | Refining |" in english
    assert "| Salar | litio, cobre, neodimio | Antofagasta | 1.200.000 | Refining |" in spanish
    assert (
        "## Proyectos estratégicos" in spanish
        and "- **Reunión:** 10 de diciembre de 2026, 10:00 (UTC-03:00)" in spanish
    )
    assert french.startswith("# Procès-verbal du cycle technique 1\n")
    assert "- **Réunion :** 10 décembre 2026 à 10:00 (UTC-03:00)" in french
    assert "| Salar | lithium, cuivre, néodyme | Antofagasta | 1\u202f200\u202f000 | Refining |" in french
    assert "| **Total** | **800\u202f000\u202f000** | **50,0 %** |" in french
    assert "la date limite des contributions est atteinte" in french
    assert "- United States of America (US) — Projets stratégiques" in french


async def test_minutes_are_rendered_in_the_languages_their_readers_read() -> None:
    # Spanish and English always (what requests recorded before French existed meant); French when asked.
    founding = await ActivityEnvironment().run(render_minutes, _minutes_request())
    assert set(founding) == {Locale.ES, Locale.EN}
    request = _minutes_request().model_copy(update={"locales": [Locale.ES, Locale.EN, Locale.FR]})
    documents = await ActivityEnvironment().run(render_minutes, request)
    assert set(documents) == {Locale.ES, Locale.EN, Locale.FR}
    assert documents[Locale.FR].startswith("# Procès-verbal du cycle technique 1")


async def test_a_french_approver_reads_the_minutes_in_french(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:
    data = declaration_data(await dev_env.get_current_time())
    data["parties"][1]["counterparts"].append(
        {"name": CLAIRE.name, "email": CLAIRE.email, "roles": ["approver"], "locale": "fr"}
    )
    declaration = Declaration.model_validate(data)
    async with running_worker(dev_env.client, outbox) as task_queue:
        _, round_handle = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: notices_of(outbox, declaration.id, "input_request"))  # the round has started
        await round_handle.execute_update(
            TechnicalRound.close, CloseRoundRequest(reason="Meeting moved", requested_by=CL_OPERATOR)
        )
        await eventually(lambda: len(notices_of(outbox, declaration.id, "approval_request")) >= 3)
        status = await round_handle.query(TechnicalRound.status)
    requests = {m["To"].addresses[0].addr_spec: m for m in notices_of(outbox, declaration.id, "approval_request")}
    assert "Procès-verbal du cycle technique 1" in body(requests[CLAIRE.email])
    assert "Acta de la ronda técnica 1" in body(requests["cfuentes@minrel.example"])
    # The version approved covers every language written, French included.
    (minutes,) = status.minutes
    assert set(minutes.documents) == {Locale.ES, Locale.EN, Locale.FR}

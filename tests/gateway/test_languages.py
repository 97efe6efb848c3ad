"""The gateway's pages in the reader's language, French included, through real HTTP: words, dates and field errors."""

from __future__ import annotations

import re

import httpx
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from schemas.declaration import Declaration, Pillar
from tests.helpers import body, declaration_data, eventually, notices_of, running_worker, start_with_round
from tests.helpers.gateway import Gateway

CLAIRE = "claire.martin@diplomatie.example"
FRENCH_DATE = re.compile(
    r"\d{1,2} (novembre|décembre|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre)"
)


async def test_a_french_technical_lead_reads_the_pages_and_their_errors_in_french(
    dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway
) -> None:
    data = declaration_data(await dev_env.get_current_time())
    data["parties"][1]["counterparts"].append(
        {"name": "Claire Martin", "email": CLAIRE, "roles": ["technical_lead"], "locale": "fr"}
    )
    declaration = Declaration.model_validate(data)
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        await start_with_round(dev_env.client, declaration, task_queue, [Pillar.STRATEGIC_PROJECTS, Pillar.FINANCING])
        requests = await eventually(
            lambda: [
                m
                for m in notices_of(outbox, declaration.id, "input_request")
                if m["To"].addresses[0].addr_spec == CLAIRE
            ]
        )
        (email,) = requests
        assert email["Subject"].startswith("Cycle technique 1 : votre contribution est demandée")
        link = re.findall(r"https?://\S+/l/\S+", body(email))[0]
        async with httpx.AsyncClient() as http:
            overview = await http.get(link)
            assert overview.status_code == 200 and '<html lang="fr">' in overview.text
            assert "Cycle 1 : la contribution de votre partie" in overview.text
            assert "<strong>Projets stratégiques :</strong> pas encore soumise" in overview.text  # French colons
            assert FRENCH_DATE.search(overview.text), overview.text
            bad = await http.post(
                f"{link}/input/strategic_projects",
                data={
                    "rows": "1",
                    "summary": "",
                    "items-0-name": "Salar",
                    "items-0-minerals": "litiio",
                    "items-0-location": "Atacama",
                    "items-0-estimated_investment_usd": "-5",
                    "items-0-supply_gap": "Raffinage",
                    "action": "submit",
                },
            )
    assert bad.status_code == 422 and "Minéraux (séparés par des virgules)" in bad.text
    assert "Veuillez corriger les champs signalés ci-dessous" in bad.text
    assert "Pour : Claire Martin" in bad.text
    assert "Doit compter au moins 1 caractère." in bad.text  # the empty summary
    assert "Doit être supérieur ou égal à 0." in bad.text  # the negative investment
    # The suggestion names the mineral the French way.
    assert "« litiio » ne figure pas sur la liste des minéraux critiques. Vouliez-vous dire lithium ?" in bad.text


async def test_a_page_before_the_link_is_read_follows_the_browsers_language(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        french = await http.get("/l/not-a-token", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.8"})
        spanish = await http.get("/l/not-a-token", headers={"accept-language": "de-DE,es;q=0.7"})
        english = await http.get("/l/not-a-token")
    assert french.status_code == spanish.status_code == english.status_code == 400
    assert "Ce lien n&#39;est pas valide" in french.text and '<html lang="fr">' in french.text
    assert "Este enlace no es válido" in spanish.text
    assert "This link is not valid" in english.text

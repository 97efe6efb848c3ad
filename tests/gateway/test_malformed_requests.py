"""Every malformed request is a 4xx page in the reader's language with the security headers, never a bare
"Internal Server Error" or a "page does not exist" that lies; the largest form a page offers is accepted.
Real HTTP against the gateway, in front of the dev server and a real worker."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from gateway.forms import MAX_FORM_BYTES, MAX_ROWS
from gateway.middleware import SECURITY_HEADERS
from schemas.declaration import Declaration, Pillar
from schemas.rounds import CloseRoundRequest, RoundStatus
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    declaration_data,
    eventually,
    running_worker,
    start_with_round,
)
from tests.helpers.gateway import LINK_KEYS, Gateway, link_in, mail_to
from workflows.technical_round import TechnicalRound

KID, SECRET = LINK_KEYS.split(":", 1)
UNREADABLE_ES = "No se pudo leer esta solicitud"
TOO_LARGE_ES = "Este formulario es demasiado grande"
INVALID_LINK_ES = "Este enlace no es válido"


def assert_page(response: httpx.Response, status: int, title: str) -> None:
    """An HTML page with its title, status and every security header: what a person and a browser need."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{escape(title)}</h1>" in response.text
    assert {k.lower(): v for k, v in SECURITY_HEADERS.items()}.items() <= dict(response.headers).items()


# ---- tokens signed with a real key but holding claims the gateway never makes


def _signed(**claims: Any) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": KID})


FUTURE, PAST = int(datetime.now(UTC).timestamp()) + 86_400, 1_000_000
CLAIMS = {"aud": "consult-link", "sub": CL_LEAD, "pur": "pillar_input", "wf": "w-round-1", "cid": "w", "rnd": 1}


def _without(name: str, exp: int) -> dict[str, Any]:
    return {k: v for k, v in {**CLAIMS, "exp": exp}.items() if k != name}


ODD_TOKENS = {
    "exp 1e30": {**CLAIMS, "exp": 1e30},
    "exp -1e30": {**CLAIMS, "exp": -1e30},
    "exp text": {**CLAIMS, "exp": "tomorrow"},
    "exp missing": dict(CLAIMS),
    "round not a number": {**CLAIMS, "rnd": "one", "exp": FUTURE},
    "unknown purpose": {**CLAIMS, "pur": "admin", "exp": FUTURE},
    **{f"{name} missing": _without(name, FUTURE) for name in ("sub", "pur", "wf", "cid", "rnd")},
    **{f"{name} missing, expired": _without(name, PAST) for name in ("sub", "pur", "wf", "cid", "rnd")},
}


@pytest.mark.parametrize("claims", list(ODD_TOKENS.values()), ids=list(ODD_TOKENS))
async def test_a_validly_signed_token_with_odd_claims_is_a_400_page(gateway: Gateway, claims: dict[str, Any]) -> None:
    token = _signed(**claims)
    async with httpx.AsyncClient(base_url=gateway.url, headers={"accept-language": "es-CL"}) as http:
        for response in (await http.get(f"/l/{token}"), await http.post(f"/l/{token}/decision", data={})):
            assert_page(response, 400, INVALID_LINK_ES)


async def test_a_page_that_does_not_exist_still_says_so(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, headers={"accept-language": "es"}) as http:
        assert_page(await http.get("/nowhere"), 404, "Esta página no existe")


# ---- forms: one open round whose Spanish-speaking technical lead (CL) posts what no page sends


@dataclass
class OpenRound:
    consultation_id: str
    link: str  # the CL technical lead's
    handle: WorkflowHandle[Any, RoundStatus]

    async def submissions(self) -> list[Any]:
        return (await self.handle.query(TechnicalRound.status)).submissions


@pytest_asyncio.fixture(scope="module")
async def open_round(dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway) -> AsyncIterator[OpenRound]:
    declaration = Declaration.model_validate(declaration_data(await dev_env.get_current_time()))
    async with running_worker(dev_env.client, outbox, gateway.signer, gateway.url) as task_queue:
        pillars = [Pillar.STRATEGIC_PROJECTS, Pillar.FINANCING]
        _, handle = await start_with_round(dev_env.client, declaration, task_queue, pillars)
        await eventually(lambda: mail_to(outbox, declaration.id, "input_request", CL_LEAD))
        yield OpenRound(declaration.id, link_in(outbox, declaration.id, "input_request", CL_LEAD), handle)


ROW = {"items-0-instrument": "Loan", "items-0-amount_usd": "5", "items-0-public_share_pct": "50", "summary": "x"}
MALFORMED = {
    "rows superscript two": {**ROW, "rows": "²", "action": "add"},
    "rows of 5000 digits": {**ROW, "rows": "9" * 5000, "action": "add"},
    "rows beyond the maximum": {**ROW, "rows": str(MAX_ROWS + 1), "action": "add"},
    "remove of 5000 digits": {**ROW, "rows": "1", "action": "remove-" + "9" * 5000},
    "remove a row not on the form": {**ROW, "rows": "1", "action": "remove-7"},
    "a button the form does not have": {**ROW, "rows": "1", "action": "delete-everything"},
    "more fields than the largest form": {"rows": "0", "action": "add", **{f"f{i}": "x" for i in range(1_100)}},
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_form_no_page_sends_is_a_400_page(open_round: OpenRound, data: dict[str, str]) -> None:
    async with httpx.AsyncClient() as http:
        assert_page(await http.post(f"{open_round.link}/input/financing", data=data), 400, UNREADABLE_ES)
    assert await open_round.submissions() == []


def _multipart(*parts: tuple[str, str, str | None]) -> tuple[bytes, str]:
    """A multipart body by hand: (name, value, filename or None) per part."""
    boundary = "b0undary"
    chunks = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        content_type = "Content-Type: text/plain\r\n" if filename else ""
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{content_type}\r\n{value}\r\n")
    body = "".join(chunks) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


async def test_file_parts_and_broken_multipart_bodies_are_400_pages(
    open_round: OpenRound,
) -> None:
    url = f"{open_round.link}/input/financing"
    async with httpx.AsyncClient() as http:
        # A multipart form without files is a form like any other.
        body, content_type = _multipart(("rows", "0", None), ("summary", "Blended", None), ("action", "add", None))
        added = await http.post(url, content=body, headers={"content-type": content_type})
        assert added.status_code == 200 and 'name="items-0-instrument"' in added.text and "Blended" in added.text
        # A file where the summary goes was once recorded as "UploadFile(...)": no page uploads files.
        body, content_type = _multipart(
            ("rows", "0", None), ("summary", "a file's text", "summary.txt"), ("action", "submit", None)
        )
        assert_page(await http.post(url, content=body, headers={"content-type": content_type}), 400, UNREADABLE_ES)
        broken = await http.post(url, content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
        assert_page(broken, 400, UNREADABLE_ES)
    assert await open_round.submissions() == []


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b"rows=0&action=submit&summary="
    for _ in range(total // 65_536 + 1):
        yield b"x" * 65_536


async def test_oversize_bodies_are_413_pages_and_texts_past_their_limits_are_field_errors(
    open_round: OpenRound,
) -> None:
    url = f"{open_round.link}/input/financing"
    async with httpx.AsyncClient(timeout=60) as http:
        declared = await http.post(url, data={"rows": "0", "action": "submit", "summary": "x" * (MAX_FORM_BYTES + 1)})
        assert_page(declared, 413, TOO_LARGE_ES)
        chunked = await http.post(url, content=_chunks(MAX_FORM_BYTES))  # no Content-Length: counted as it comes
        assert "content-length" not in chunked.request.headers
        assert_page(chunked, 413, TOO_LARGE_ES)
        # Past Starlette's 1 MB per field, within the body's limit: the summary's own limit, in Spanish, beside it.
        long = await http.post(url, data={"rows": "0", "action": "submit", "summary": "x" * 1_500_000})
        assert long.status_code == 422 and "Debe tener como máximo 20000 caracteres." in long.text
        control = await http.post(url, data={"rows": "0", "action": "submit", "summary": "Bell\x07 rings"})
        assert control.status_code == 422 and "Este texto contiene caracteres de control" in control.text
    assert await open_round.submissions() == []


def _project(i: int) -> dict[str, str]:
    return {
        f"items-{i}-name": f"Project {i}",
        f"items-{i}-minerals": "lithium, copper",
        f"items-{i}-location": "Antofagasta",
        f"items-{i}-estimated_investment_usd": "1.000.000",
        f"items-{i}-supply_gap": "Refining",
    }


async def test_the_largest_form_a_page_offers_is_accepted_and_decision_forms_refuse_the_same_way(
    open_round: OpenRound, outbox: Outbox
) -> None:
    link, round_handle, cid = open_round.link, open_round.handle, open_round.consultation_id
    rows = {k: v for i in range(MAX_ROWS) for k, v in _project(i).items()}
    full = {"rows": str(MAX_ROWS), "summary": "Every project we have.", "action": "submit", **rows}
    assert len(full) > 1_000  # Starlette's default limit, which this form once hit as "page does not exist"
    async with httpx.AsyncClient(timeout=60) as http:
        submitted = await http.post(f"{link}/input/strategic_projects", data=full)
        assert submitted.status_code == 303, submitted.text[:500]
        (record,) = await open_round.submissions()
        assert len(record.input.items) == MAX_ROWS and record.input.items[-1].name == f"Project {MAX_ROWS - 1}"

        await round_handle.execute_update(
            TechnicalRound.close, CloseRoundRequest(reason="Meeting brought forward", requested_by=CL_OPERATOR)
        )
        await eventually(lambda: mail_to(outbox, cid, "approval_request", CL_APPROVER))
        decision = f"{link_in(outbox, cid, 'approval_request', CL_APPROVER)}/decision"
        body, content_type = _multipart(("decision", "request_changes", None), ("comment", "see file", "c.txt"))
        assert_page(await http.post(decision, content=body, headers={"content-type": content_type}), 400, UNREADABLE_ES)
        many = {"decision": "approve", **{f"f{i}": "x" for i in range(1_100)}}
        assert_page(await http.post(decision, data=many), 400, UNREADABLE_ES)
        # A comment past its limit: the approval page again, the limit said in the approver's language.
        long = await http.post(decision, data={"decision": "request_changes", "comment": "x" * 50_000})
        assert long.status_code == 400 and re.search(r"Debe tener como máximo \d+ caracteres\.", long.text)
    assert (await round_handle.query(TechnicalRound.status)).decisions == []

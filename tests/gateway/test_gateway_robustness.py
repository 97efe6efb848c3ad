"""The gateway never answers a mutated link or an outage with a server error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client

from gateway.app import create_app
from infra.links import LinkSigner, parse_keys
from schemas.links import LinkPurpose, LinkSpec
from tests.helpers.gateway import LINK_KEYS

SIGNER = LinkSigner(parse_keys(LINK_KEYS))
SPEC = LinkSpec(
    purpose=LinkPurpose.PILLAR_INPUT,
    workflow_id="consultation-x-round-1",
    consultation_id="x",
    round_number=1,
    expires_at=datetime.now(UTC) + timedelta(days=3),
)
TOKEN = SIGNER.sign(SPEC, "vrojas@minrel.example")


async def _down() -> Client:
    raise RuntimeError("Temporal is down")


APP = create_app(signer=SIGNER, clients=_down)


async def test_temporal_down_is_a_503_that_loses_nothing() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://gateway") as http:
        page = await http.get(f"/l/{TOKEN}", headers={"accept-language": "es-CL"})
        post = await http.post(f"/l/{TOKEN}/input/financing", data={"summary": "x", "action": "submit"})
    assert page.status_code == 503 and "Intente de nuevo" in page.text and page.headers["retry-after"] == "30"
    assert post.status_code == 503 and "Nothing was lost" in post.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0),
    replacement=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=0, max_size=3),
    suffix=st.sampled_from(["", "/decision", "/input/financing", "/input/tourism"]),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
async def test_mutated_tokens_never_cause_a_server_error(
    position: int, replacement: str, suffix: str, method: str
) -> None:
    index = position % len(TOKEN)
    mutated = TOKEN[:index] + replacement + TOKEN[index + 1 :]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://gateway") as http:
        response = await http.request(
            method,
            f"/l/{httpx.URL(mutated).raw_path.decode()}{suffix}",
            data={"decision": "approve"} if method == "POST" else None,
        )
    assert response.status_code < 500 or response.status_code == 503  # 503: the token held, Temporal is down
    if response.status_code == 503:
        assert SIGNER.verify(mutated)  # only a token that still verifies gets as far as Temporal


def test_numbers_are_read_in_either_convention() -> None:
    from gateway.forms import plain_number

    cases = {
        "1.200.000.000": "1200000000",
        "1,200,000,000": "1200000000",
        "1.200.000,50": "1200000.50",
        "1,200,000.50": "1200000.50",
        "60,5": "60.5",
        "60.5": "60.5",
        "1 200 000": "1200000",
        "1.200": "1200",
        "85000": "85000",
        "-1": "-1",
    }
    assert {text: plain_number(text) for text in cases} == cases


async def test_unknown_paths_are_pages_too() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://gateway") as http:
        response = await http.get("/l/")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


async def test_requests_are_logged_without_their_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    from infra import logs

    logs.configure("json", "INFO")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://gateway") as http:
        await http.get(f"/l/{TOKEN}")
        await http.post(f"/l/{TOKEN}/decision", data={"decision": "approve"})
    written = capsys.readouterr().err
    assert '"path": "/l/\\u2026"' in written or '"path": "/l/…"' in written
    assert '"path": "/l/\\u2026/decision"' in written or '"path": "/l/…/decision"' in written
    assert TOKEN not in written and TOKEN[:20] not in written

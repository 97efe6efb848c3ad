"""What the gateway answers when something fails, over real HTTP: Temporal out of reach or too slow
is a 503 that loses nothing; anything else is a bug, a 500 whose error id is on the page and in the log.
Every Temporal call it makes carries the same RPC timeout."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import (
    Client,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from gateway import deps
from gateway.app import create_app
from gateway.page import Page
from infra import logs
from infra.links import LinkSigner, parse_keys
from infra.local import free_port
from infra.storage import StorageUnavailable
from schemas.declaration import Declaration, Pillar
from schemas.links import LinkPurpose, LinkSpec
from schemas.rounds import CloseRoundRequest
from tests.helpers import (
    CL_APPROVER,
    CL_LEAD,
    CL_OPERATOR,
    declaration_data,
    eventually,
    notices_of,
    running_worker,
    start_with_round,
)
from tests.helpers.gateway import LINK_KEYS, link_in, recording, serving
from workflows.technical_round import TechnicalRound

SIGNER = LinkSigner(parse_keys(LINK_KEYS))


def _token(workflow_id: str = "consultation-x-round-1") -> str:
    spec = LinkSpec(
        purpose=LinkPurpose.PILLAR_INPUT,
        workflow_id=workflow_id,
        consultation_id="x",
        round_number=1,
        expires_at=datetime.now(UTC) + timedelta(days=3),
    )
    return SIGNER.sign(spec, CL_LEAD)


def _log_lines(written: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in written.splitlines() if line.startswith("{")]


async def _closed_port() -> Client:
    # Nothing listens: the connection is refused.
    return await Client.connect(f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter)


async def _lazy_to_closed_port() -> Client:
    # Fails on its first call instead.
    return await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)


@pytest.mark.parametrize("clients", [_closed_port, _lazy_to_closed_port], ids=["connect", "first-call"])
async def test_temporal_unreachable_is_a_503_that_loses_nothing(
    clients: Callable[[], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("json", "INFO")
    token = _token()
    async with serving(create_app(signer=SIGNER, clients=clients)) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get(f"/l/{token}", headers={"accept-language": "es-CL"})
        post = await http.post(f"/l/{token}/input/financing", data={"summary": "x", "action": "submit"})
    assert page.status_code == 503 and "Intente de nuevo" in page.text and page.headers["retry-after"] == "30"
    assert post.status_code == 503 and "Nothing was lost" in post.text
    events = [line["event"] for line in _log_lines(capsys.readouterr().err)]
    assert "temporal out of reach" in events and "unexpected error" not in events


async def test_a_workflow_that_does_not_answer_in_time_is_a_503(dev_env: WorkflowEnvironment) -> None:
    # A round nobody works on: its queries wait for a worker until the RPC timeout.
    workflow_id = f"consultation-silent-{uuid.uuid4().hex[:8]}-round-1"
    handle = await dev_env.client.start_workflow("TechnicalRound", id=workflow_id, task_queue=f"nobody-{workflow_id}")

    async def clients() -> Client:
        return dev_env.client

    app = create_app(signer=SIGNER, clients=clients)
    app.dependency_overrides[deps.get_rpc_timeout] = lambda: timedelta(milliseconds=500)
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            page = await http.get(f"/l/{_token(workflow_id)}")
    finally:
        await handle.terminate("test over")
    assert page.status_code == 503 and "Nothing was lost" in page.text


@pytest.mark.parametrize(
    "bug",
    [ValueError("a bug in the gateway"), RPCError("permission denied", RPCStatusCode.PERMISSION_DENIED, b"")],
    ids=["exception", "other-rpc-error"],
)
async def test_a_bug_is_a_500_with_an_error_id_in_the_page_and_the_log(
    bug: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    async def page_with_a_bug() -> Page:
        raise bug

    async def clients() -> Client:
        raise AssertionError("not reached: the page is replaced")

    app = create_app(signer=SIGNER, clients=clients)
    app.dependency_overrides[deps.get_page] = page_with_a_bug
    logs.configure("json", "INFO")
    token = _token()
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get(f"/l/{token}", headers={"accept-language": "es"})
    written = capsys.readouterr().err

    assert response.status_code == 500 and "Ocurrió un error en el servicio" in response.text
    assert "Intente de nuevo" not in response.text  # never a hidden "try later"
    assert response.headers["cache-control"] == "no-store"
    shown = re.search(r"error ([0-9a-f]{8})", response.text)
    assert shown is not None
    (logged,) = [line for line in _log_lines(written) if line["event"] == "unexpected error"]
    assert logged["error_id"] == shown.group(1) and logged["path"] == "/l/…"
    assert type(bug).__name__ in logged["exception"]
    assert token not in written


async def test_a_file_store_out_of_reach_is_a_503_logged_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    """The store's one line reaches the log (wrapped as the SDK's driver wraps it); the reader is asked to retry."""

    async def page_without_its_store() -> Page:
        try:
            raise StorageUnavailable("S3 bucket 'files' at http://minio:9000 is out of reach")
        except StorageUnavailable as error:
            raise RuntimeError("S3StorageDriver store failed") from error

    async def clients() -> Client:
        raise AssertionError("not reached: the page is replaced")

    app = create_app(signer=SIGNER, clients=clients)
    app.dependency_overrides[deps.get_page] = page_without_its_store
    logs.configure("json", "INFO")
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get(f"/l/{_token()}", headers={"accept-language": "es"})
    written = capsys.readouterr().err

    assert response.status_code == 503 and "Intente de nuevo" in response.text
    (logged,) = [line for line in _log_lines(written) if line["event"] == "file store out of reach"]
    assert "bucket 'files'" in logged["error"]


async def test_every_temporal_call_of_the_gateway_has_its_rpc_timeout(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    recorder, clients = recording(dev_env.client)
    declaration = Declaration.model_validate(declaration_data(await dev_env.get_current_time()))
    cid = declaration.id
    async with (
        serving(create_app(signer=SIGNER, clients=clients)) as url,
        running_worker(dev_env.client, outbox, SIGNER, url) as task_queue,
        httpx.AsyncClient() as http,
    ):
        _, round_handle = await start_with_round(dev_env.client, declaration, task_queue, [Pillar.FINANCING])
        await eventually(lambda: notices_of(outbox, cid, "input_request"))
        input_link = link_in(outbox, cid, "input_request", CL_LEAD)
        submitted = await http.post(
            f"{input_link}/input/financing",
            data={"rows": "0", "summary": "Blended facility", "action": "submit"},
        )
        assert submitted.status_code == 303
        await round_handle.execute_update(TechnicalRound.close, CloseRoundRequest(reason="r", requested_by=CL_OPERATOR))
        await eventually(lambda: notices_of(outbox, cid, "approval_request"))
        forwarded = await http.post(
            f"{link_in(outbox, cid, 'approval_request', CL_APPROVER)}/delegate", data={"delegate": CL_LEAD}
        )
        assert forwarded.status_code == 200

    # One small query per page (never the declaration or the whole status), and the updates themselves.
    assert {name for name, _ in recorder.calls} == {"link_page", "submit_input", "delegate"}
    assert {timeout for _, timeout in recorder.calls} == {deps.RPC_TIMEOUT}

"""Encrypted payloads against the dev server: no negotiation text in Temporal's history, the codec
endpoint decrypts for operators, and rotated-out keys still decrypt while listed."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from gateway.app import create_app
from infra.codec import EncryptionCodec, parse_payload_keys
from infra.links import LinkSigner, parse_keys
from infra.settings import Settings
from infra.temporal import data_converter
from schemas.declaration import Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import SubmitInputRequest
from tests.helpers import CL_OPERATOR, eventually, make_declaration, running_worker, start_with_round
from workflows.technical_round import TechnicalRound

OLD = "old:" + base64.b64encode(os.urandom(32)).decode()
NEW = "new:" + base64.b64encode(os.urandom(32)).decode()
SECRET = "Blended facility at 60 percent public share"
DAY = timedelta(days=1)


async def test_history_holds_no_plaintext_and_the_codec_endpoint_decrypts(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    settings = Settings(payload_keys=f"{NEW},{OLD}")
    sealed = await Client.connect(
        dev_env.client.service_client.config.target_host, data_converter=data_converter(settings)
    )
    now = await dev_env.get_current_time()
    declaration = make_declaration(now)
    async with running_worker(sealed, outbox) as task_queue:
        handle, round_ = await start_with_round(sealed, declaration, task_queue, [Pillar.FINANCING])
        item = PILLAR_INPUT.validate_python(
            {"party": "CL", "pillar": "financing", "author": "vrojas@minrel.example", "summary": SECRET}
        )

        async def submitted() -> bool:
            try:
                await round_.execute_update(
                    TechnicalRound.submit_input, SubmitInputRequest(input=item, submitted_by=CL_OPERATOR)
                )
                return True
            except Exception:
                return False

        await eventually(submitted)
        decrypted = await round_.query(TechnicalRound.status)  # operators with the keys read it as usual

    # What Temporal stores, read without the keys.
    plain = dev_env.client
    histories = [await plain.get_workflow_handle(wid).fetch_history() for wid in (handle.id, round_.id)]
    stored = "".join(h.to_json() for h in histories)
    assert decrypted.submissions[0].input.summary == SECRET
    for text in (SECRET, "vrojas@minrel.example", declaration.title):
        assert text not in stored
        assert base64.b64encode(text.encode()).decode()[:16] not in stored
    update = next(
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads[0]
        for e in histories[1].events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    )
    assert update.metadata["encoding"] == b"binary/encrypted" and update.metadata["encryption-key-id"] == b"new"

    # The codec endpoint decrypts it for the Temporal UI, with the bearer token only.
    app = create_app(
        signer=LinkSigner(parse_keys("k:" + "x" * 40)),
        clients=_no_client,
        codec=EncryptionCodec(parse_payload_keys(f"{NEW},{OLD}")),
        codec_token="ui-token",
        ui_origin="http://ui.example",
    )
    body = json.dumps(
        {
            "payloads": [
                {
                    "metadata": {k: base64.b64encode(v).decode() for k, v in update.metadata.items()},
                    "data": base64.b64encode(update.data).decode(),
                }
            ]
        }
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        refused = await http.post("/codec/decode", content=body)
        opened = await http.post(
            "/codec/decode", content=body, headers={"Authorization": "Bearer ui-token", "Origin": "http://ui.example"}
        )
    assert refused.status_code == 401
    assert opened.status_code == 200 and opened.headers["access-control-allow-origin"] == "http://ui.example"
    (payload,) = opened.json()["payloads"]
    assert SECRET in base64.b64decode(payload["data"]).decode()


async def _no_client() -> Client:
    raise RuntimeError("not needed")


async def test_a_rotated_out_key_still_decrypts_while_listed() -> None:
    before = EncryptionCodec(parse_payload_keys(OLD))
    (sealed,) = await before.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"secret"')])
    rotated = EncryptionCodec(parse_payload_keys(f"{NEW},{OLD}"))
    (opened,) = await rotated.decode([sealed])
    assert opened.data == b'"secret"'
    (resealed,) = await rotated.encode([opened])
    assert resealed.metadata["encryption-key-id"] == b"new"
    with pytest.raises(ValueError, match="no longer listed"):
        await EncryptionCodec(parse_payload_keys(NEW)).decode([sealed])


def test_bad_payload_keys_are_refused() -> None:
    for text, message in [
        ("nocolon", "kid:base64key"),
        ("k:!!", "not base64"),
        ("k:" + base64.b64encode(b"short").decode(), "32 bytes"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_payload_keys(text)

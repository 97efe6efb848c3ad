"""Liveness and readiness over real HTTP: /healthz answers while the process runs and asks nothing of
anyone; /readyz is 200 only while the Temporal server answers, 503 (quickly) when it does not."""

from __future__ import annotations

import asyncio
import time

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from consult import binaries
from gateway.app import create_app
from gateway.middleware import SECURITY_HEADERS
from gateway.routers.health import READY_TIMEOUT
from infra.links import LinkSigner, parse_keys
from infra.local import free_port
from tests.helpers import SERVER_STARTUP
from tests.helpers.gateway import LINK_KEYS, Gateway, serving

SIGNER = LinkSigner(parse_keys(LINK_KEYS))


async def test_ready_while_temporal_answers(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        live, ready = await http.get("/healthz"), await http.get("/readyz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "temporal": "serving"})
    assert ready.headers["cache-control"] == SECURITY_HEADERS["Cache-Control"]


async def test_not_ready_once_temporal_stops_though_still_alive() -> None:
    # A server of its own, stopped mid-test; the gateway keeps the client it connected, as in production.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.temporal_cli(), ui=False, dev_server_startup_timeout=SERVER_STARTUP
    )
    connected: list[Client] = []

    async def clients() -> Client:
        if not connected:
            connected.append(await Client.connect(env.client.service_client.config.target_host))
        return connected[0]

    async with serving(create_app(signer=SIGNER, clients=clients)) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/readyz")).status_code == 200
        await env.shutdown()
        started = time.monotonic()
        ready = await http.get("/readyz")
        took = time.monotonic() - started
        live = await http.get("/healthz")
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "temporal": "unreachable"})
    assert took < READY_TIMEOUT.total_seconds() + 1
    assert ready.headers["x-frame-options"] == "DENY"
    assert live.status_code == 200  # alive: restarting the gateway would not bring Temporal back


async def test_not_ready_when_temporal_never_answered_or_hangs() -> None:
    async def refused() -> Client:
        return await Client.connect(f"127.0.0.1:{free_port()}")  # nothing listens

    async def hangs() -> Client:
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    for clients in (refused, hangs):
        async with (
            serving(create_app(signer=SIGNER, clients=clients)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            started = time.monotonic()
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and time.monotonic() - started < READY_TIMEOUT.total_seconds() + 1
            assert (await http.get("/healthz")).status_code == 200

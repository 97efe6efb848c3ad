"""Running against a real cluster: connection settings the SDK's way, and the worker's Prometheus metrics."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from infra.local import free_port
from infra.settings import Settings, SmtpSettings
from infra.temporal import connect, connect_options, metrics_runtime
from operations.consultations import start
from tests.helpers import delivered, make_declaration
from workers.main import build_worker


def test_temporal_variables_and_profiles_apply_and_consult_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "example.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "ministry.prod")
    monkeypatch.setenv("TEMPORAL_API_KEY", "key-from-the-cloud-console")
    cloud = connect_options(Settings())
    assert (cloud["target_host"], cloud["namespace"], cloud["api_key"], cloud["tls"]) == (
        "example.tmprl.cloud:7233",
        "ministry.prod",
        "key-from-the-cloud-console",
        True,
    )
    monkeypatch.setenv("CONSULT_TEMPORAL_ADDRESS", "temporal.internal:7233")
    assert connect_options(Settings())["target_host"] == "temporal.internal:7233"


async def test_the_worker_serves_sdk_metrics(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:
    port = free_port()
    settings = Settings(temporal_address=dev_env.client.service_client.config.target_host)
    client = await connect(settings, metrics_runtime(port))
    async with build_worker(client, "metrics-queue", SmtpSettings(host=outbox.host, port=outbox.port)):
        handle = await start(client, make_declaration(await dev_env.get_current_time()), "metrics-queue")
        await delivered(handle, "opened")
        async with httpx.AsyncClient() as http:
            for _ in range(50):  # the exporter publishes on its own schedule
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                if "temporal_activity_execution_latency" in text:
                    break
                await asyncio.sleep(0.1)
    assert "temporal_activity_execution_latency" in text
    assert "temporal_workflow_task_execution_latency" in text

"""The one Temporal client factory, used by the worker, the gateway and the CLI.

Connection settings load the way Temporal's SDK documents them — a `temporal.toml`
profile and `TEMPORAL_*` variables (address, namespace, TLS/mTLS certificates,
API key for Temporal Cloud) — and the project's `CONSULT_TEMPORAL_*` variables,
when set, win over both.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, ExternalStorage
from temporalio.envconfig import ClientConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.settings import Settings
from infra.storage import StorageUnavailable, file_system_storage, s3_storage


def data_converter(settings: Settings) -> DataConverter:
    """pydantic models in and out; large payloads and attached files kept by External Storage
    (`infra/storage.py`); sealed with AES-GCM when CONSULT_PAYLOAD_KEYS is set (before storage)."""
    converter = dataclasses.replace(pydantic_data_converter, external_storage=external_storage(settings))
    if settings.payload_keys is None:
        return converter
    from infra.codec import EncryptionCodec, parse_payload_keys  # cryptography: loaded only when keys are set

    codec = EncryptionCodec(parse_payload_keys(settings.payload_keys.get_secret_value()))
    # Failure messages and stack traces are encrypted too, not only payloads.
    return dataclasses.replace(
        converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def external_storage(settings: Settings) -> ExternalStorage:
    """CONSULT_STORAGE: `fs` (a folder, the default) or `s3` (CONSULT_S3_BUCKET and friends). Nothing is
    opened here (this runs before any event loop): the S3 client opens on first use."""
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise StorageUnavailable("CONSULT_STORAGE=s3 needs CONSULT_S3_BUCKET (the bucket that keeps files)")
        return s3_storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region)
    return file_system_storage(settings.storage_root)


def connect_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`: the SDK's profile/env config, then CONSULT_* on top."""
    options: dict[str, Any] = dict(ClientConfig.load_client_connect_config(profile=settings.temporal_profile))
    fields = settings.model_fields_set
    if "temporal_address" in fields or "target_host" not in options:
        options["target_host"] = settings.temporal_address
    if "temporal_namespace" in fields or "namespace" not in options:
        options["namespace"] = settings.temporal_namespace
    return options


def metrics_runtime(port: int) -> Runtime:
    """A runtime whose SDK metrics (workflow and activity latencies, task slots, polls) Prometheus scrapes."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}")))


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    options = connect_options(settings)
    target = options.pop("target_host")
    if runtime is not None:
        options["runtime"] = runtime
    return await Client.connect(target, data_converter=data_converter(settings), **options)

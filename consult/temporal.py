"""The one Temporal client factory, used by the worker, the gateway and the CLI."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from consult.codec import EncryptionCodec, parse_payload_keys
from consult.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """pydantic models in and out; sealed with AES-GCM when CONSULT_PAYLOAD_KEYS is set."""
    if settings.payload_keys is None:
        return pydantic_data_converter
    codec = EncryptionCodec(parse_payload_keys(settings.payload_keys.get_secret_value()))
    # Failure messages and stack traces are encrypted too, not only payloads.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )

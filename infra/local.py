"""Servers on this machine: a free loopback port, and the search attributes a fresh Temporal needs.

Used where the project starts its own servers (tests, scripts/record_histories.py);
`consult dev` registers the attributes through the Temporal CLI's flags instead.
"""

from __future__ import annotations

import socket

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client

from schemas import search_attributes as sa


def free_port() -> int:
    """A loopback port nothing listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def register_search_attributes(client: Client) -> None:
    """Every custom attribute the consultations use, on the client's namespace."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in sa.ALL},
        )
    )

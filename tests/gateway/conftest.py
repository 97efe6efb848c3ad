"""The gateway served for real: uvicorn on a loopback port, in front of the dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway.app import create_app
from infra.links import LinkSigner, parse_keys
from tests.helpers.gateway import LINK_KEYS, Gateway, serving


@pytest_asyncio.fixture(scope="session")
async def gateway(dev_env: WorkflowEnvironment) -> AsyncIterator[Gateway]:
    signer = LinkSigner(parse_keys(LINK_KEYS))

    async def clients() -> Client:
        return dev_env.client

    async with serving(create_app(signer=signer, clients=clients)) as url:
        yield Gateway(url, signer)

"""The gateway served for real: uvicorn on a loopback port, in front of the dev server; and a real
browser for its pages: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, async_playwright
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from consult.binaries import CHROMIUM, CHROMIUM_ARGS
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


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    # `make test` installs Debian's chromium; without it this fails loudly rather than skipping.
    assert CHROMIUM.exists(), "Chromium is missing: `apt-get install chromium` (make test does it)"
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()

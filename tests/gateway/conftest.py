"""The gateway served for real: uvicorn on a loopback port, in front of the dev server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway.app import create_app
from infra.links import LinkSigner, parse_keys
from tests.conftest import free_port

LINK_KEYS = "test-2026:" + "k" * 48


@dataclass
class Gateway:
    url: str
    signer: LinkSigner


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on a loopback port, for as long as the block runs; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture(scope="session")
async def gateway(dev_env: WorkflowEnvironment) -> AsyncIterator[Gateway]:
    signer = LinkSigner(parse_keys(LINK_KEYS))

    async def clients() -> Client:
        return dev_env.client

    async with serving(create_app(signer=signer, clients=clients)) as url:
        yield Gateway(url, signer)

"""Helpers for the gateway tests: the gateway served for real by uvicorn, and the links in received mail."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import uvicorn
from fastapi import FastAPI
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)

from consult.outbox import Outbox
from infra.links import LinkSigner
from infra.local import free_port
from tests.helpers import body, notices_of

LINK_KEYS = "test-2026:" + "k" * 48


@dataclass
class Gateway:
    url: str
    signer: LinkSigner


class Recorder(Interceptor):
    """Notes every query and update a client sends, in order: its name and RPC timeout."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, timedelta | None]] = []

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RecordingOutbound(next, self.calls)


class _RecordingOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, calls: list[tuple[str, timedelta | None]]) -> None:
        super().__init__(next)
        self.calls = calls

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self.calls.append((input.query, input.rpc_timeout))
        return await super().query_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        self.calls.append((input.update, input.rpc_timeout))
        return await super().start_workflow_update(input)


def recording(client: Client) -> tuple[Recorder, Callable[[], Awaitable[Client]]]:
    """A gateway's `clients`: `client`'s connection, with a Recorder noting what the gateway asks Temporal."""
    recorder = Recorder()
    config = client.config()
    config["interceptors"] = [recorder]
    recorded = Client(**config)

    async def clients() -> Client:
        return recorded

    return recorder, clients


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


def mail_to(outbox: Outbox, cid: str, kind: str, recipient: str) -> list[EmailMessage]:
    """One person's emails of a kind, oldest first (wait on this, not on anyone's, before reading theirs)."""
    return [m for m in notices_of(outbox, cid, kind) if m["To"].addresses[0].addr_spec == recipient]


def link_in(outbox: Outbox, cid: str, kind: str, recipient: str) -> str:
    """The link in one person's latest email of a kind: the same in the text and the HTML part."""
    message = mail_to(outbox, cid, kind, recipient)[-1]
    text_links = re.findall(r"https?://\S+/l/\S+", body(message))
    html_links = re.findall(r'href="(https?://[^"]+/l/[^"]+)"', body(message, "html"))
    assert text_links and text_links[0] == html_links[0]
    return str(text_links[0])

"""Helpers for the gateway tests: the gateway served for real by uvicorn, and the links in received mail."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage

import uvicorn
from fastapi import FastAPI

from consult.outbox import Outbox
from infra.links import LinkSigner
from infra.local import free_port
from tests.helpers import body, notices_of

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

"""SMTP connections kept open between messages, a few per worker process.

Each message is its own activity (see activities/email.py); opening a connection for each
(TCP, greeting, EHLO, and QUIT afterwards) was most of the time a message took on a busy
worker. A connection that sent a message cleanly goes back to the pool; one that failed in
any way is closed, never reused. A connection idle too long is closed rather than reused,
since servers drop idle clients (and a dropped one would fail the next message's attempt).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiosmtplib


class SmtpPool:
    def __init__(self, connect: Callable[[], aiosmtplib.SMTP], size: int = 8, idle_seconds: float = 10.0) -> None:
        self._connect = connect
        self._size = size
        self._idle_seconds = idle_seconds
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        # Connections closed in the background (QUIT is not worth a message's wait).
        self._closing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        smtp = self._reusable() or await self._open()
        clean = False
        try:
            yield smtp
            clean = True
        finally:
            if clean and smtp.is_connected and len(self._idle) < self._size:
                entry = (smtp, time.monotonic())
                self._idle.append(entry)
                # Closed once idle too long, used or not: a stopped worker leaves no connection open.
                asyncio.get_running_loop().call_later(self._idle_seconds, self._close_if_idle, entry)
            else:
                self._close_later(smtp)

    def _reusable(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and now - since < self._idle_seconds:
                return smtp
            self._close_later(smtp)
        return None

    def _close_if_idle(self, entry: tuple[aiosmtplib.SMTP, float]) -> None:
        """Closes the connection if it is still idle since `entry` was made (a reuse makes a new entry)."""
        if any(idle is entry for idle in self._idle):
            self._idle = [idle for idle in self._idle if idle is not entry]
            self._close_later(entry[0])

    async def _open(self) -> aiosmtplib.SMTP:
        smtp = self._connect()
        await smtp.connect()
        return smtp

    def _close_later(self, smtp: aiosmtplib.SMTP) -> None:
        if not smtp.is_connected:
            return

        async def quit() -> None:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()

        task = asyncio.get_running_loop().create_task(quit())
        self._closing.add(task)  # a strong reference until it is done (the loop keeps only weak ones)
        task.add_done_callback(self._closing.discard)

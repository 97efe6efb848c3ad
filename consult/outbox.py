"""The SMTP sink of `consult dev` and the tests: a real SMTP server that keeps every message.

Each message is saved as `<outbox>/<timestamp>-<n>.eml`, exactly as received,
so a person can open it in a mail client and a test can parse it.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Sortable by arrival, and unique across restarts of the sink.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:6]}.eml"
        content: bytes = envelope.original_content or envelope.content
        path.write_bytes(content)
        return "250 Message accepted for delivery"


class Outbox:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        folder.mkdir(parents=True, exist_ok=True)
        self._controller: Controller | None = None
        # Each saved message parsed once: a message is never changed once saved, and reading them all
        # again on every look cost seconds of CPU once a folder held thousands.
        self._parsed: dict[Path, EmailMessage] = {}

    def start(self) -> Outbox:
        # A new controller each time: a stopped one cannot start again, and a test stops the
        # sink (an SMTP outage: connections refused) and starts it again on the same port.
        self._controller = Controller(_SaveToFolder(self.folder), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        messages = []
        for path in sorted(self.folder.glob("*.eml")):
            message = self._parsed.get(path)
            if message is None:
                message = self._parsed[path] = read_eml(path)
            messages.append(message)
        return messages


def read_eml(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

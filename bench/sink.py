"""The SMTP sink, a process of its own: counts what it receives and keeps the links people would click.

`python -m bench.sink --port N --index FILE` accepts every message and appends one JSON line per
message to FILE (Message-ID, recipients, consultation, notice kind, when it was accepted, the sender's
TCP port, and for messages that ask someone to act, the `/l/<token>` link of their plain-text part). Nothing else is
kept: 8,000 messages are 8,000 short lines, not 8,000 files. SIGTERM stops it; started again on the
same FILE, it appends. The chaos suite (tests/chaos) uses it too, stopping it for a real mail outage.

`Mailbox` is the reading side, in the benchmark's (or the suite's) process.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import re
import signal
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HEADER = re.compile(rb"^([A-Za-z-]+):[ \t]*(.*)$")
LINK = re.compile(r"https?://\S+/l/[A-Za-z0-9._~-]+")
WITH_LINKS = ("approval_request", "input_request")


def _headers(content: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in content.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        match = HEADER.match(line)
        if match:
            found.setdefault(match.group(1).decode().lower(), match.group(2).decode(errors="replace"))
    return found


def _link(content: bytes) -> str:
    """The first link of the plain-text part, "" if none (or the message cannot be read: it is still accepted)."""
    try:
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(("plain",))
        found = LINK.findall(part.get_content() if part is not None else "")
    except Exception:
        return ""
    return str(found[0]) if found else ""


class _Count:
    def __init__(self, index: Path) -> None:
        self.index = index.open("a", encoding="utf-8")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        headers = _headers(content)
        kind = headers.get("x-consultation-notice", "")
        entry = {
            "mid": headers.get("message-id", ""),
            "to": [str(r).lower() for r in envelope.rcpt_tos],
            "cid": headers.get("x-consultation-id", ""),
            "kind": kind,
            "at": time.time(),
            "link": _link(content) if kind in WITH_LINKS else "",
            # Which connection it came on: the chaos suite tells a killed worker's last messages by it.
            "peer": session.peer[1] if isinstance(session.peer, tuple) else 0,
        }
        # One line per message, flushed before the 250: a message acknowledged is a message counted.
        self.index.write(json.dumps(entry) + "\n")
        self.index.flush()
        return "250 Message accepted for delivery"


def main() -> None:
    from aiosmtpd.controller import Controller  # only the sink process needs it

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(_Count(args.index), hostname=args.host, port=args.port, ready_timeout=60)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@dataclass(frozen=True)
class Received:
    message_id: str
    recipient: str
    consultation: str
    kind: str
    at: float  # when the sink accepted it (wall clock)
    link: str  # "" for notices that ask nothing of their recipient
    peer: int = 0  # the sender's TCP port (0 in an index written before the sink kept it)

    @property
    def notice_id(self) -> str:
        """`<{notice_id}.{hash of the recipient}@domain>` (activities/email.py): the notice the message is of."""
        local = self.message_id.strip("<>").partition("@")[0]
        return local.rpartition(".")[0]


class Mailbox:
    """What the sink has received so far, read incrementally from its index (across restarts of the sink)."""

    def __init__(self, index: Path) -> None:
        self.index = index
        self._offset = 0
        self.messages: list[Received] = []
        self._by: dict[str, list[Received]] = {}  # by consultation

    def refresh(self) -> list[Received]:
        if not self.index.exists():
            return self.messages
        with self.index.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            e = json.loads(line)
            for to in e["to"]:
                received = Received(e["mid"], to, e["cid"], e["kind"], e["at"], e["link"], e.get("peer", 0))
                self.messages.append(received)
                self._by.setdefault(received.consultation, []).append(received)
        return self.messages

    def of(
        self, consultation: str, kind: str | None = None, recipient: str | None = None, *, refresh: bool = True
    ) -> list[Received]:
        """What `consultation` received (of `kind`, to `recipient`); `refresh=False` reads no new lines, for a
        caller asking about many consultations after one `refresh()`."""
        if refresh:
            self.refresh()
        return [
            m
            for m in self._by.get(consultation, [])
            if (kind is None or m.kind == kind) and (recipient is None or m.recipient == recipient)
        ]

    def link(self, consultation: str, kind: str, recipient: str) -> str | None:
        """The link of the last message of `kind` to `recipient` that carries one."""
        found = [m.link for m in self.of(consultation, kind, recipient) if m.link]
        return found[-1] if found else None


if __name__ == "__main__":
    main()

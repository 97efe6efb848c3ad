"""An SMTP sink in a process of its own, so the suite can stop mail (a real outage) and start it again.

`python -m tests.chaos.sink --port N --folder DIR` keeps every message as an `.eml` file and appends one
JSON line per message to `DIR/index.jsonl` (Message-ID, recipient, consultation, notice kind, file), so
the suite counts deliveries by Message-ID without parsing thousands of files. SIGTERM stops it.

`Mailbox` is the reading side, in the suite's process.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from consult.outbox import read_eml

INDEX = "index.jsonl"
HEADER = re.compile(rb"^([A-Za-z-]+):[ \t]*(.*)$")


def _headers(content: bytes) -> dict[str, str]:
    """The few headers the index needs, read from the raw message (unfolded: the project sends them so)."""
    found: dict[str, str] = {}
    for line in content.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        match = HEADER.match(line)
        if match:
            found.setdefault(match.group(1).decode().lower(), match.group(2).decode(errors="replace"))
    return found


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index = (folder / INDEX).open("a", encoding="utf-8")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        name = f"{uuid.uuid4().hex}.eml"
        (self.folder / name).write_bytes(content)
        headers = _headers(content)
        entry = {
            "mid": headers.get("message-id", ""),
            "to": [str(r).lower() for r in envelope.rcpt_tos],
            "cid": headers.get("x-consultation-id", ""),
            "kind": headers.get("x-consultation-notice", ""),
            "file": name,
            "at": time.time(),
        }
        # One line per message, flushed before the 250: a message acknowledged is a message counted.
        self.index.write(json.dumps(entry) + "\n")
        self.index.flush()
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Keep(args.folder), hostname=args.host, port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


# --- the reading side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    message_id: str
    recipient: str
    consultation: str
    kind: str
    file: str
    at: float  # when the sink accepted it (wall clock)

    @property
    def notice_id(self) -> str:
        """`<{notice_id}.{hash of the recipient}@domain>` (activities/email.py): the notice the message is of."""
        local = self.message_id.strip("<>").partition("@")[0]
        return local.rpartition(".")[0]


class Mailbox:
    """What the sink has received so far (read incrementally from its index, across restarts of the sink)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._offset = 0
        self.messages: list[Received] = []

    def refresh(self) -> list[Received]:
        path = self.folder / INDEX
        if not path.exists():
            return self.messages
        with path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            e = json.loads(line)
            for to in e["to"]:
                self.messages.append(Received(e["mid"], to, e["cid"], e["kind"], e["file"], e["at"]))
        return self.messages

    def of(self, consultation: str, kind: str | None = None, recipient: str | None = None) -> list[Received]:
        return [
            m
            for m in self.refresh()
            if m.consultation == consultation
            and (kind is None or m.kind == kind)
            and (recipient is None or m.recipient == recipient)
        ]

    def read(self, message: Received) -> EmailMessage:
        return read_eml(self.folder / message.file)

    def link(self, message: Received) -> str:
        """The link of its own a message carries (in its plain-text part)."""
        part = self.read(message).get_body(("plain",))
        text = part.get_content() if part is not None else ""
        found = re.findall(r"https?://\S+/l/[A-Za-z0-9._~-]+", text)
        if not found:
            raise AssertionError(f"{message.message_id} carries no link")
        return str(found[0])


if __name__ == "__main__":
    main()

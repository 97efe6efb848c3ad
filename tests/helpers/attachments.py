"""Small real files to attach (each of an accepted type by its content), and records of them (stored or not)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from infra.files import record_file
from infra.settings import Settings
from infra.temporal import data_converter
from schemas.annexes import FileRecord
from tests.helpers import CL_LEAD

ATTACHED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def file_record(name: str, sha256: str, size: int = 1) -> FileRecord:
    """A PDF's record as a workflow or a template sees it, with no stored file behind it (its reference is opaque:
    nothing that reads records by name, size or SHA-256 opens it)."""
    return FileRecord(
        name=name,
        size=size,
        media_type="application/pdf",
        sha256=sha256,
        attached_by=CL_LEAD,
        attached_at=ATTACHED_AT,
        reference="opaque",
    )


def pdf(text: str = "position paper", size: int = 0) -> bytes:
    """A PDF by its content (`%PDF-` first); `size` pads it to that many bytes with random content."""
    head = f"%PDF-1.7\n% {text}\n".encode()
    tail = b"\n%%EOF\n"
    if size <= len(head) + len(tail):
        return head + tail
    return head + os.urandom(size - len(head) - len(tail)) + tail


def csv(rows: int = 3) -> bytes:
    return ("project,mineral,usd\n" + "".join(f"Salar {i},lithium,{i * 1000}\n" for i in range(rows))).encode()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(64)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def recorded(storage: Path, name: str, data: bytes, by: str) -> FileRecord:
    """The file stored as the CLI and the gateway store it (External Storage under `storage`), and its record."""
    converter = data_converter(Settings(storage_dir=storage))
    return await record_file(converter, name, data, attached_by=by, attached_at=ATTACHED_AT)

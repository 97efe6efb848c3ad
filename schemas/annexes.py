"""Files that travel with inputs, minutes and drafts (position papers, project lists, annexed texts).

A file never travels through workflow history: its bytes are kept by Temporal's External Storage
(see `infra/files.py`), and what workflows record is a `FileRecord`: its name, size, media type
(checked from its content), SHA-256, who attached it and when, and the storage's reference.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from schemas import limits
from schemas.base import Model
from schemas.declaration import Email

MAX_FILE_BYTES = 25 * 1024 * 1024  # one attached file
MAX_FILES = 20  # files on one input, minutes or draft version
MAX_FILE_NAME = 255  # most file systems' limit on a name
# The External Storage reference (a serialized Temporal payload, base64): a few hundred characters.
MAX_REFERENCE = 8_192


class MediaType(StrEnum):
    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ODT = "application/vnd.oasis.opendocument.text"
    ODS = "application/vnd.oasis.opendocument.spreadsheet"
    CSV = "text/csv"
    PNG = "image/png"
    JPEG = "image/jpeg"

    @property
    def label(self) -> str:
        return self.name


# The extensions a file of each type may carry (the first is the one a file is named with).
EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    MediaType.PDF: (".pdf",),
    MediaType.DOCX: (".docx",),
    MediaType.XLSX: (".xlsx",),
    MediaType.ODT: (".odt",),
    MediaType.ODS: (".ods",),
    MediaType.CSV: (".csv",),
    MediaType.PNG: (".png",),
    MediaType.JPEG: (".jpg", ".jpeg"),
}
ACCEPTED = ", ".join(t.label for t in list(MediaType)[:-1]) + f" or {list(MediaType)[-1].label}"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def file_name(value: str) -> str:
    """The name a person gave the file, without any folder a browser or a path put before it."""
    return re.split(r"[\\/]", value.strip())[-1].strip()


def _name(value: str, info: ValidationInfo) -> str:
    if not limits.sent_now(info):
        return value
    value = limits.check_text(value, limit=MAX_FILE_NAME, multiline=False)
    if not value or value in (".", "..") or re.search(r"[\\/]", value):
        raise PydanticCustomError("file_name", "must be a file's name, without folders")
    return value


def _sha256(value: str) -> str:
    if not _SHA256.match(value):
        raise PydanticCustomError("sha256", "must be 64 lowercase hexadecimal characters (a SHA-256)")
    return value


FileName = Annotated[str, Field(min_length=1), AfterValidator(_name)]
Sha256 = Annotated[str, AfterValidator(_sha256)]


class FileRecord(Model):
    """One attached file, as recorded: what it is, who attached it and when, and where its bytes are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: FileName
    size: Annotated[int, Field(ge=1, le=MAX_FILE_BYTES)]
    media_type: MediaType
    sha256: Sha256
    attached_by: Email
    attached_at: datetime
    # External Storage's reference to the (encrypted) bytes: an opaque, serialized Temporal payload.
    reference: Annotated[str, Field(min_length=1), limits.one_line(MAX_REFERENCE)]


Files = Annotated[list[FileRecord], limits.at_most(MAX_FILES)]


def annexes_line(files: list[FileRecord]) -> str:
    """How a document's annexes enter its fingerprint: names and hashes, in order."""
    return "\n".join(f"{f.sha256}  {f.name}" for f in files)

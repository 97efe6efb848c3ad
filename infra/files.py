"""Attached files: checked from their content, fingerprinted, and kept by External Storage.

`record_file` is what every edge (the CLI, the gateway) calls with the bytes a person attached: it
refuses what is not one of the accepted types by its content (an executable renamed `.pdf`), a name
whose extension says another type, an empty or oversized file; then it stores the bytes through the
data converter (codec first, so the store sees ciphertext when payload keys are set) and returns
the `FileRecord` a workflow keeps. Workflows never see the bytes; `fetch_file` reads them back.

The file goes through External Storage as a payload of its own, with the threshold at zero so even
a small file leaves history, and the reference payload is serialized into `FileRecord.reference`:
a workflow that records the reference never downloads the file on replay, where a top-level
stored payload would be fetched on every activation.
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import hashlib
import io
import re
import zipfile
from datetime import datetime
from pathlib import PurePath

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from schemas.annexes import ACCEPTED, EXTENSIONS, MAX_FILE_BYTES, FileRecord, MediaType, file_name


class FileRefused(ValueError):
    """A file that cannot be attached; the message names the file and what is wrong.

    `reason` (no_name, empty, too_large, type, extension) and the facts beside it let an edge word the
    same refusal in its reader's language (the gateway) without checking the file again."""

    def __init__(
        self,
        message: str,
        *,
        reason: str = "",
        name: str = "",
        media_type: MediaType | None = None,
        suffix: str = "",
    ) -> None:
        super().__init__(message)
        self.reason, self.name, self.media_type, self.suffix = reason, name, media_type, suffix

    @property
    def suggested(self) -> str:
        """For `extension`: the name the file should have for its type."""
        return PurePath(self.name).stem + EXTENSIONS[self.media_type][0] if self.media_type else self.name


class StorageMissing(RuntimeError):
    """The data converter has no External Storage: files cannot be kept."""


_OPEN_DOCUMENT = {
    b"application/vnd.oasis.opendocument.text": MediaType.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": MediaType.ODS,
}


def _zip_type(data: bytes) -> MediaType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    return _OPEN_DOCUMENT.get(archive.read(info).strip())
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return MediaType.DOCX
                if "xl/workbook.xml" in names:
                    return MediaType.XLSX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, OSError):
        return None
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # below the space, but tabs and line ends


def _is_csv(data: bytes) -> bool:
    """UTF-8 text (a BOM allowed) with no control characters but tabs and line ends, readable as CSV rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if not text.strip() or _CONTROL.search(text):
        return False
    try:
        sample = text[: 64 * 1024]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if any(d in sample for d in ",;\t") else csv.excel
        rows = list(csv.reader(io.StringIO(sample), dialect))
    except csv.Error:
        return False
    return bool(rows)


def sniff(data: bytes) -> MediaType | None:
    """The accepted type these bytes are, by their content (magic numbers, a ZIP's entries), or None."""
    if data.startswith(b"%PDF-"):
        return MediaType.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if _is_csv(data):
        return MediaType.CSV
    return None


def shown_name(name: str) -> str:
    """A file's name as a message shows it (a long one cut)."""
    return name if len(name) <= 80 else name[:77] + "..."


def check_file(name: str, data: bytes) -> tuple[str, MediaType]:
    """The file's name (without folders) and type, or FileRefused saying what is wrong with it."""
    name = file_name(name)
    if not name:
        raise FileRefused("a file has no name", reason="no_name")
    shown = shown_name(name)
    if not data:
        raise FileRefused(f"{shown} is empty", reason="empty", name=name)
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            f"{shown} is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes (25 MiB)",
            reason="too_large",
            name=name,
        )
    media_type = sniff(data)
    if media_type is None:
        raise FileRefused(
            f"{shown} is not a {ACCEPTED} file by its content (its name does not count)", reason="type", name=name
        )
    suffix = PurePath(name).suffix.lower()
    if suffix not in EXTENSIONS[media_type]:
        refused = FileRefused("", reason="extension", name=name, media_type=media_type, suffix=suffix)
        refused.args = (
            f"{shown} is a {media_type.label} file by its content, but its name ends in "
            f"{suffix or 'no extension'}: name it {refused.suggested}",
        )
        raise refused
    return name, media_type


def files_converter(converter: DataConverter) -> DataConverter:
    """The same converter (codec, drivers), storing every payload externally whatever its size."""
    storage = converter.external_storage
    if storage is None:
        raise StorageMissing("no file storage is configured (External Storage is off in this data converter)")
    return dataclasses.replace(converter, external_storage=dataclasses.replace(storage, payload_size_threshold=0))


async def store_file(converter: DataConverter, data: bytes) -> str:
    """Stores the bytes (through the codec) and returns External Storage's reference to them."""
    [payload] = await files_converter(converter).encode([data])
    if not payload.external_payloads:
        raise StorageMissing("the file storage kept a file inline instead of storing it")
    return base64.b64encode(payload.SerializeToString()).decode("ascii")


async def fetch_file(converter: DataConverter, record: FileRecord) -> bytes:
    """The file's bytes, read back from the store and checked against its recorded SHA-256."""
    try:
        payload = Payload.FromString(base64.b64decode(record.reference, validate=True))
    except (binascii.Error, ValueError) as error:
        raise FileRefused(f"{record.name}: its storage reference is unreadable") from error
    [data] = await files_converter(converter).decode([payload], [bytes])
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != record.sha256:
        raise FileRefused(f"{record.name}: the stored bytes do not match its SHA-256 {record.sha256}")
    return data


async def record_file(
    converter: DataConverter, name: str, data: bytes, *, attached_by: str, attached_at: datetime
) -> FileRecord:
    """Checks, stores and describes one attached file (FileRefused if it cannot be attached)."""
    name, media_type = check_file(name, data)
    reference = await store_file(converter, data)
    return FileRecord(
        name=name,
        size=len(data),
        media_type=media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        attached_by=attached_by,
        attached_at=attached_at,
        reference=reference,
    )

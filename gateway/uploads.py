"""The input form with files: read as it streams in, within bounds, and each file checked and stored.

Bounds: the whole body at most MAX_UPLOAD_BYTES (every file at its largest, plus the form's text),
counted as it arrives; the text fields together at most MAX_FORM_BYTES, held in memory; files spooled
to disk past 1 MB each by Starlette, read back one at a time. Beyond, a 413 page. Every other form
(no files: a decision, a forwarding) is read here too, within MAX_FORM_BYTES (`read_form`).

Every file is checked before any is stored (`refusal`: in the reader's language, naming the file),
so a refused file leaves nothing behind; then each goes through `infra.files.record_file`. A file
recorded a moment ago by the same reader for the same workflow is reused as recorded (`Recorded`):
the same form posted twice sends the same request, with the same update id, and records once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Message
from temporalio.converter import DataConverter

from activities.wording import file_size
from gateway.forms import MAX_FORM_BYTES, MAX_FORM_FIELDS
from gateway.kept import Kept
from infra.files import FileRefused, check_file, record_file, shown_name
from infra.i18n import Words
from schemas.annexes import MAX_FILE_BYTES, MAX_FILES, FileRecord, file_name

FILES_FIELD = "attachments"
KEEP_FIELD = "keep"
# The largest input form: every file at its largest, and the text of the largest form.
MAX_UPLOAD_BYTES = MAX_FILES * MAX_FILE_BYTES + MAX_FORM_BYTES


class TooLarge(Exception):
    """The body is larger than any form with files this gateway accepts."""


class _BoundedParser(MultiPartParser):
    """Starlette's multipart parser, with the text fields bounded together, not only one by one."""

    def __init__(self, headers: Headers, stream: AsyncGenerator[bytes, None], *, max_files: int) -> None:
        super().__init__(headers, stream, max_files=max_files, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES)
        self._text_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            self._text_bytes += end - start
            if self._text_bytes > MAX_FORM_BYTES:
                raise MultiPartException("the form's text is larger than any form sends")
        super().on_part_data(data, start, end)


async def read_form(request: Request) -> FormData:
    """A posted form without files, within the bounds of the largest form a page offers: TooLarge past
    MAX_FORM_BYTES, MultiPartException (or Starlette's 400 HTTPException) for what no page sends (a file,
    too many fields, a broken multipart body)."""
    body = bytearray()
    async for chunk in _bounded(request, MAX_FORM_BYTES):
        body += chunk

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    # A file part here (a "summary" sent as a file, say) is refused, not read.
    return await Request(request.scope, replay).form(
        max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES
    )


async def read_upload_form(request: Request) -> FormData:
    """The posted input form, with its files: TooLarge past MAX_UPLOAD_BYTES, MultiPartException (or
    Starlette's 400 HTTPException) for a body no page sends. A form without files (urlencoded) is read
    as every other form (`read_form`)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_form(request)
    # One more file part than the limit, so that too many files is said as such (not a broken form).
    stream = _bounded(request, MAX_UPLOAD_BYTES)
    return await _BoundedParser(request.headers, stream, max_files=MAX_FILES + 1).parse()


def _bounded(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body as it arrives, TooLarge past `limit`: as declared (at once, before anything is read or
    parsed), and as counted (a chunked body declares no length)."""
    declared = request.headers.get("content-length", "")
    if len(declared) > 12 or (declared.isdecimal() and int(declared) > limit):
        raise TooLarge

    async def counted() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise TooLarge
            yield chunk

    return counted()


def chosen_files(form: FormData) -> list[UploadFile]:
    """The files sent with the form; a file input left empty sends one part without a name or bytes."""
    return [f for f in form.getlist(FILES_FIELD) if isinstance(f, UploadFile) and (f.filename or f.size)]


@dataclass(frozen=True)
class Refusal:
    status: int  # 413 for a file too large, 415 for a type not accepted, 422 otherwise
    message: str


async def _read(upload: UploadFile) -> bytes:
    await upload.seek(0)
    return await upload.read()


def refusal(name: str, size: int, data: bytes | None, t: dict[str, str], words: Words) -> Refusal | None:
    """Why this file cannot be attached (`infra.files.check_file`'s refusal, in the reader's words), or
    None. `data` None: not read, being too large already."""
    if size > MAX_FILE_BYTES or data is None:
        shown = shown_name(file_name(name))
        return Refusal(413, t["file_too_large"].format(name=shown, size=file_size(size, words)))
    try:
        check_file(name, data)
    except FileRefused as refused:
        shown = shown_name(refused.name)
        if refused.reason == "too_large":
            return Refusal(413, t["file_too_large"].format(name=shown, size=file_size(len(data), words)))
        if refused.reason == "type":
            return Refusal(415, t["file_type"].format(name=shown))
        if refused.reason == "extension" and refused.media_type is not None:
            suffix = refused.suffix or t["no_extension"]
            worded = t["file_extension"].format(
                name=shown, type=refused.media_type.label, suffix=suffix, suggested=refused.suggested
            )
            return Refusal(422, worded)
        return Refusal(422, t["file_empty"].format(name=shown or "—"))  # empty, or no name
    return None


async def first_refusal(uploads: list[UploadFile], t: dict[str, str], words: Words) -> Refusal | None:
    """The first file that cannot be attached, read one at a time (a file too large is not read)."""
    for upload in uploads:
        size = upload.size or 0
        data = await _read(upload) if size <= MAX_FILE_BYTES else None
        found = refusal(upload.filename or "", size, data, t, words)
        if found is not None:
            return found
    return None


class Recorded(Kept[tuple[str, str, str, str], FileRecord]):
    """Files recorded lately, by workflow, reader, SHA-256 and name (bounded, kept a while): the same file
    sent again by the same reader is the same record, so a form posted twice asks for the same update."""

    def __init__(self, size: int = 1_000, ttl: timedelta = timedelta(minutes=15)) -> None:
        super().__init__(size, ttl)


async def record_uploads(
    converter: DataConverter, uploads: list[UploadFile], *, workflow_id: str, attached_by: str, recorded: Recorded
) -> list[FileRecord]:
    """Each file stored and described (after `first_refusal` found none to refuse), duplicates once."""
    records: dict[str, FileRecord] = {}
    for upload in uploads:
        data = await _read(upload)
        sha256 = hashlib.sha256(data).hexdigest()
        name = file_name(upload.filename or "")
        key = (workflow_id, attached_by, sha256, name)
        record = recorded.get(key)
        if record is None:
            record = await record_file(converter, name, data, attached_by=attached_by, attached_at=datetime.now(UTC))
            recorded.put(key, record)
        records.setdefault(record.sha256, record)
    return list(records.values())

"""File links on the gateway's own pages (an approval's annexes, the files of a party's input), and the
answer a file link gets: the bytes as a download, never shown inline.

A page signs each link for its reader, as the mail activity does for a message: the same kind of
token (infra/links.py, `sign_file`), bound to the reader, the workflow, the file's SHA-256 and where
the file is, so `/files/TOKEN` (gateway/routers/files.py) serves it to that reader only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.responses import Response

from activities.wording import FileLine, file_size
from infra.i18n import Words
from infra.links import LinkSigner
from schemas.annexes import FileRecord
from schemas.links import FILE_LINK_LIFETIME, FileLinkSpec, FileLocation, LinkClaims

# A downloaded file is never a page of ours: no script, no style, no frame, sandboxed if a browser
# opened it anyway (with nosniff and the attachment disposition, it does not).
FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def file_lines(
    signer: LinkSigner, claims: LinkClaims, files: Sequence[FileRecord], where: FileLocation, words: Words
) -> list[FileLine]:
    """The files as a page lists them, each with a link for the page's reader (as long as the page's
    link lives, and at least FILE_LINK_LIFETIME from now)."""
    expires_at = max(claims.expires_at, datetime.now(UTC) + FILE_LINK_LIFETIME)

    def href(record: FileRecord) -> str:
        spec = FileLinkSpec(
            workflow_id=claims.workflow_id,
            consultation_id=claims.consultation_id,
            sha256=record.sha256,
            where=where,
            expires_at=expires_at,
        )
        return f"/files/{signer.sign_file(spec, claims.recipient)}"

    return [FileLine(f.name, file_size(f.size, words), f.media_type.label, f.sha256, href(f)) for f in files]


def content_disposition(name: str) -> str:
    """`attachment` always, with the name in UTF-8 (RFC 6266/5987) and a plain-ASCII fallback for old clients."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(record: FileRecord, data: bytes | None) -> Response:
    """The file as a download (`data` None: a HEAD, its headers only)."""
    headers = {
        "Content-Disposition": content_disposition(record.name),
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Content-SHA256": record.sha256,
    }
    if data is None:
        headers["Content-Length"] = str(record.size)
        return Response(status_code=200, media_type=record.media_type.value, headers=headers)
    return Response(data, media_type=record.media_type.value, headers=headers)

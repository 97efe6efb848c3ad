"""The record of a consultation (dossier): everything decided, by whom, when, through which channel, with hashes.

Built only from what Temporal holds — the consultation's input (its declaration,
from the first event of its history) and the status of the consultation and of
each round (queried while running, their results once finished) — never from a
separate database. The record's own SHA-256 is computed over its canonical JSON.

Every attached file is listed (`files`: where it is attached, name, type, size, SHA-256, who and
when); `export` writes the record and the files into one folder with a `SHA256SUMS` that
`sha256sum -c` checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from temporalio.client import Client

from activities.documents import file_size, markdown_to_html
from infra.i18n import Words
from operations import consultations as operations
from operations import files
from schemas.annexes import FileRecord
from schemas.declaration import Locale

# In an export's folder: the files, and the checksums of everything written.
FILES = "files"
SUMS = "SHA256SUMS"

_templates = Environment(
    loader=PackageLoader("operations", "templates"),
    autoescape=select_autoescape(default=True),
    keep_trailing_newline=True,
)


async def build(client: Client, consultation_id: str) -> dict[str, Any]:
    status = await operations.status(client, consultation_id)
    # The declaration from the first event of the history (not the whole history), the rounds together.
    declaration, rounds = await asyncio.gather(
        operations.declaration(client, consultation_id),
        asyncio.gather(*(operations.round_of(client, r.workflow_id, r.number) for r in status.rounds)),
    )
    record: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "declaration": declaration.model_dump(mode="json"),
        "consultation": status.model_dump(mode="json"),
        "rounds": [r.model_dump(mode="json") for r in rounds],
        "files": files.entries(status, rounds),
    }
    record["sha256"] = record_sha256(record)
    return record


def record_sha256(record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON (keys sorted, UTF-8), its own `sha256` field left out."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def file_records(record: dict[str, Any]) -> dict[str, FileRecord]:
    """Every file the record names, by SHA-256, with its storage reference (from the statuses it holds)."""
    found: list[Any] = [a for d in record["consultation"]["drafts"] for a in d.get("annexes", [])]
    for r in record["rounds"]:
        found += [a for s in r["submissions"] for a in s["input"].get("attachments", [])]
        found += [a for m in r["minutes"] for a in m.get("annexes", [])]
    return {f["sha256"]: FileRecord.model_validate(f) for f in found}


def file_names(record: dict[str, Any]) -> tuple[str, str]:
    """The record's HTML and JSON file names."""
    return f"dossier-{record['consultation']['id']}.html", f"dossier-{record['consultation']['id']}.json"


async def export(client: Client, record: dict[str, Any], folder: Path) -> list[Path]:
    """The record (HTML, JSON) and every file it lists (under `files/`, each once) written into `folder`, and
    `SHA256SUMS` over all of them: `cd folder && sha256sum -c SHA256SUMS` checks the lot. Returns what it wrote."""
    # Read back from the store and checked against their SHA-256 before anything is written.
    contents = {sha: await files.fetch(client, stored) for sha, stored in file_records(record).items()}
    return await asyncio.to_thread(write_export, record, contents, folder)


def write_export(record: dict[str, Any], contents: dict[str, bytes], folder: Path) -> list[Path]:
    """`export`'s writing: the files' bytes by SHA-256, the record, and SHA256SUMS (paths relative to `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    html_name, json_name = file_names(record)
    names = {e["sha256"]: e["export_name"] for e in record["files"]}
    sums: list[tuple[str, str]] = []
    written: list[Path] = []
    if contents:
        (folder / FILES).mkdir(exist_ok=True)
    for sha, data in contents.items():
        path = files.inside(folder / FILES, names[sha])
        path.write_bytes(data)
        sums.append((sha, f"{FILES}/{path.name}"))
        written.append(path)
    for name, text in (
        (html_name, render_html(record, files_dir=FILES)),
        (json_name, json.dumps(record, indent=2, ensure_ascii=False)),
    ):
        path = files.inside(folder, name)
        path.write_text(text, encoding="utf-8")
        sums.append((hashlib.sha256(path.read_bytes()).hexdigest(), name))
        written.append(path)
    sums_path = folder / SUMS
    sums_path.write_text("".join(f"{sha}  {name}\n" for sha, name in sums), encoding="utf-8")
    return [*written, sums_path]


def render_html(record: dict[str, Any], locale: Locale = Locale.EN, files_dir: str | None = None) -> str:
    """The record for an operator to read, in their language (the record's data stays as recorded); with
    `files_dir`, each file links to its copy there."""

    def markdown(text: str) -> Markup:
        return Markup(markdown_to_html(text))

    words = Words(locale)
    return _templates.get_template("dossier.html.j2").render(
        r=record,
        markdown=markdown,
        locale=locale.value,
        _=words.gettext,
        ngettext=words.ngettext,
        colon=words.colon,
        files_dir=files_dir,
        size=lambda n: file_size(n, words),
    )

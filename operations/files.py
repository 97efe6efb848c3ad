"""Files attached to inputs, minutes and drafts: recorded through External Storage, listed, exported.

The bytes never reach a workflow: `record` checks each file by its content and stores it through
the client's data converter (`infra/files.py`), and what is sent in an update is its `FileRecord`.
Where a file is recorded is read back from the statuses: a round's submissions (every revision
names its files) and minutes versions, and the consultation's drafts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from temporalio.client import Client

from infra.files import check_file, fetch_file, record_file
from operations import consultations
from schemas.annexes import FileRecord
from schemas.consultation import ConsultationStatus
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import RoundStatus

# The longest name an exported file gets (before its extension): short enough for any file system.
_EXPORT_STEM = 80


class FileChoiceError(ValueError):
    """A file named to drop, or a name to write one under, that cannot be used; the message says which."""


async def record(
    client: Client, files: list[tuple[str, bytes]], *, attached_by: str, attached_at: datetime
) -> list[FileRecord]:
    """Every file checked first (FileRefused names the first bad one, and nothing is stored), then stored."""
    for name, data in files:
        check_file(name, data)
    return [
        await record_file(client.data_converter, name, data, attached_by=attached_by, attached_at=attached_at)
        for name, data in files
    ]


async def fetch(client: Client, file: FileRecord) -> bytes:
    """The file's bytes, read back from the store and checked against its SHA-256."""
    return await fetch_file(client.data_converter, file)


def to_keep(current: SubmissionRecord | None, drop: list[str], attached: Iterable[str] = ()) -> list[str]:
    """The SHA-256s of the current input's files a resubmission keeps: all of them but those dropped (by name
    or SHA-256) and those attached again (`attached`: their SHA-256s); FileChoiceError for a `drop` that
    names none of them."""
    earlier = current.input.attachments if current is not None else []
    dropped: set[str] = set()
    for wanted in drop:
        matches = {f.sha256 for f in earlier if wanted in (f.name, f.sha256)}
        if not matches:
            if current is None:
                raise FileChoiceError(f"--drop {wanted}: there is no earlier input on this pillar to drop files from")
            names = ", ".join(f"{f.name} ({f.sha256[:12]}…)" for f in earlier) or "none"
            raise FileChoiceError(
                f"--drop {wanted}: no file of {current.input.party}/{current.input.pillar.value} revision "
                f"{current.revision} has that name or SHA-256 (its files: {names})"
            )
        dropped |= matches
    again = set(attached)
    return [f.sha256 for f in earlier if f.sha256 not in dropped | again]


def current_submission(status: RoundStatus, party: str, pillar: str) -> SubmissionRecord | None:
    """The party's current input on the pillar in that round, if any."""
    return next(
        (
            s
            for s in status.submissions
            if s.superseded_at is None and s.input.party == party and s.input.pillar.value == pillar
        ),
        None,
    )


# --- every file of a consultation ----------------------------------------------------------------


def entries(consultation: ConsultationStatus, rounds: Iterable[RoundStatus]) -> list[dict[str, Any]]:
    """Every file, where it is attached (each input revision, minutes and draft version), with what was recorded
    of it, and the name it is exported under (one per SHA-256: the same file attached twice is written once)."""
    found: list[tuple[dict[str, Any], FileRecord]] = []
    for r in rounds:
        for s in r.submissions:
            where = f"round {r.number}, input {s.input.party}/{s.input.pillar.value} revision {s.revision}"
            found += [({"where": where, "round": r.number, "kind": "input"}, f) for f in s.input.attachments]
        for m in r.minutes:
            where = f"round {r.number}, minutes version {m.version}"
            found += [({"where": where, "round": r.number, "kind": "minutes"}, f) for f in m.annexes]
    for d in consultation.drafts:
        where = f"agreement draft version {d.version}"
        found += [({"where": where, "round": None, "kind": "draft"}, f) for f in d.annexes]
    names = export_names([f for _, f in found])
    return [
        {**place, **f.model_dump(mode="json", exclude={"reference"}), "export_name": names[f.sha256]}
        for place, f in found
    ]


def safe_name(name: str) -> str:
    """A name to write a file under in any folder: letters, digits, `.`, `-`, `_`; never hidden, never a path."""
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    if not re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix):
        stem, suffix = name, ""
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:_EXPORT_STEM] or "file"
    return f"{stem}{suffix.lower()}"


def export_names(files: list[FileRecord]) -> dict[str, str]:
    """A unique, safe file name per SHA-256 (`paper.pdf`, then `paper-2.pdf` for another file of that name)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for f in files:
        if f.sha256 in names:
            continue
        name = safe_name(f.name)
        stem, suffix = PurePath(name).stem, PurePath(name).suffix
        n = 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name.lower())
        names[f.sha256] = name
    return names


def inside(folder: Path, name: str) -> Path:
    """`folder/name`, refusing a name that would land anywhere else."""
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        raise FileChoiceError(f"{name!r} is not a plain file name")
    return path


# --- asked of a consultation ------------------------------------------------------------------------


async def current_input(client: Client, consultation_id: str, party: str, pillar: str) -> SubmissionRecord | None:
    """The party's current input on the pillar in the latest round (None if it has none yet)."""
    return current_submission(await consultations.recorded_round(client, consultation_id), party, pillar)

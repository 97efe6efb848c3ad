"""Arguments and options several commands share, and reading what an operator types (dates, pillars, files).

The choices an option offers (pillars, stages, decisions) are spelt here rather than taken from the
schemas' enums: importing those loads pydantic and every model, which would double the time `consult
--help` takes. `tests/cli/test_startup.py` checks that they match the schemas.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.cli.session import BAD_INPUT, Failure, Session

if TYPE_CHECKING:
    from schemas.annexes import FileRecord
    from schemas.declaration import Locale, Pillar

OPERATOR_ENV = "CONSULT_OPERATOR"


class PillarChoice(StrEnum):
    """`schemas.declaration.Pillar`."""

    SUPPLY_CHAIN = "supply_chain"
    STRATEGIC_PROJECTS = "strategic_projects"
    RECYCLING = "recycling"
    FINANCING = "financing"


class StageChoice(StrEnum):
    """`schemas.consultation.Stage`."""

    DECLARED = "declared"
    TECHNICAL_ROUNDS = "technical_rounds"
    DRAFTING_AGREEMENT = "drafting_agreement"
    AWAITING_APPROVAL = "awaiting_approval"
    CONCLUDED = "concluded"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class DecisionChoice(StrEnum):
    """`schemas.approvals.Decision`: what can be decided on a draft."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    DECLINE = "decline"


class MinutesDecision(StrEnum):
    """What can be decided on minutes (declining belongs to the agreement)."""

    APPROVE = DecisionChoice.APPROVE.value
    REQUEST_CHANGES = DecisionChoice.REQUEST_CHANGES.value


def _consultation_id(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("give the consultation's id (the declaration's `id`)")
    return value.strip()


def _operator(value: str) -> str:
    if not value:
        raise Failure(
            f"who is acting? Pass --by EMAIL or set {OPERATOR_ENV} (an operator of the declaration).", BAD_INPUT
        )
    return value


ConsultationId = Annotated[
    str,
    typer.Argument(metavar="ID", help="The declaration id (or the full workflow id).", callback=_consultation_id),
]
# Commands that record something say who is acting; checked before anything is sent.
Operator = Annotated[
    str,
    typer.Option(
        "--by",
        metavar="EMAIL",
        envvar=OPERATOR_ENV,
        show_default=False,
        callback=_operator,
        help="The operator acting (an email listed in the declaration); recorded with the request.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
# A document (minutes, a draft) in one or both languages: see `read_documents`.
EnglishText = Annotated[
    Path | None, typer.Option("--en", metavar="FILE", help="The text in English (Markdown, UTF-8).")
]
SpanishText = Annotated[
    Path | None, typer.Option("--es", metavar="FILE", help="The text in Spanish (Markdown, UTF-8).")
]
Approver = Annotated[str, typer.Option(metavar="EMAIL", help="The approver whose decision this is.")]
# A document version's annexes: every file it carries, given again with each version.
Annexes = Annotated[
    list[Path] | None,
    typer.Option(
        "--annex",
        metavar="FILE",
        help="A file annexed to this version (repeat for more; PDF, DOCX, XLSX, ODT, ODS, CSV, PNG, JPEG; up to "
        "25 MiB). Approvals cover the text and its annexes.",
    ),
]


def attach_files(paths: list[Path] | None, option: str) -> list[tuple[str, bytes]]:
    """The files given with `option`, read and checked by their content (nothing is stored yet): a bad one is
    refused, naming it, before anything is sent."""
    from consult.files import read_attachment
    from infra.files import check_file
    from schemas.annexes import MAX_FILES

    paths = paths or []
    if len(paths) > MAX_FILES:
        raise Failure(f"{option}: {len(paths)} files; at most {MAX_FILES}", BAD_INPUT)
    files = [read_attachment(path) for path in paths]
    for name, data in files:
        check_file(name, data)
    return files


def describe_files(files: list[FileRecord]) -> str:
    """`paper.pdf (PDF, 1,024 bytes, SHA-256 …)`, one per line, for a command's answer."""
    return "".join(f"\n  {f.name} ({f.media_type.label}, {f.size:,} bytes, SHA-256 {f.sha256})" for f in files)


def store_files(session: Session, files: list[tuple[str, bytes]], by: str) -> list[FileRecord]:
    """The files `attach_files` read, stored as attached by `by` now: the records a request carries."""
    from datetime import UTC, datetime

    from operations.files import record

    return session.run(record, files, attached_by=by, attached_at=datetime.now(UTC))


def listed_annexes(annexes: list[FileRecord]) -> str:
    """A version's annexes as a command's answer lists them after its first line (nothing without any)."""
    return f"\nAnnexes:{describe_files(annexes)}" if annexes else ""


def parse_date(text: str, option: str, tz: tzinfo, *, end_of_day: bool) -> datetime:
    """A date typed for `option`; without an offset it is read in `tz` (the declaration's time zone)."""
    from consult.timeparse import parse_when

    try:
        return parse_when(text, tz, end_of_day=end_of_day)
    except ValueError as error:
        raise Failure(f"{option}: {error}", BAD_INPUT) from None


def read_documents(en: Path | None, es: Path | None, hint: str = "") -> dict[Locale, str]:
    """A document in one or both languages, from the `--en` / `--es` files."""
    from consult.files import read_document
    from schemas.declaration import Locale

    files = {locale: path for locale, path in ((Locale.EN, en), (Locale.ES, es)) if path is not None}
    if not files:
        raise Failure(f"give the text: --en FILE and/or --es FILE {hint}".strip(), BAD_INPUT)
    return {locale: read_document(path) for locale, path in files.items()}


def parse_pillars(text: str | None) -> list[Pillar] | None:
    """`supply_chain,financing` as pillars, each once, in the order given; None for "all of them"."""
    from schemas.declaration import Pillar

    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = [p.value for p in Pillar]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise Failure(
            f"--pillars: unknown pillar(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}",
            BAD_INPUT,
        )
    return [Pillar(n) for n in dict.fromkeys(names)]

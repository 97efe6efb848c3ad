"""The minutes name every file a party attached (name, type, size, SHA-256), so their fingerprint covers them."""

from __future__ import annotations

import pytest

from activities.documents import minutes_markdown
from schemas.annexes import FileRecord
from schemas.declaration import Locale, Pillar
from schemas.documents import document_sha256
from schemas.pillar_inputs import PILLAR_INPUT, PillarInput
from tests.helpers import CL_LEAD, ITEMS, minutes_request
from tests.helpers.attachments import file_record

pytestmark = pytest.mark.files

PAPER = file_record("posición_[final].pdf", "ab" * 32, size=20_971_520)


def _input(attachments: list[FileRecord]) -> PillarInput:
    return PILLAR_INPUT.validate_python(
        {
            "party": "CL",
            "pillar": "financing",
            "author": CL_LEAD,
            "summary": "Our position",
            "items": ITEMS[Pillar.FINANCING],
            "attachments": attachments,
        }
    )


@pytest.mark.parametrize(
    ("locale", "heading", "size"),
    [(Locale.EN, "Attached files:", "20,971,520 bytes"), (Locale.ES, "Archivos adjuntos:", "20.971.520 bytes")],
)
def test_the_minutes_list_each_inputs_files(locale: Locale, heading: str, size: str) -> None:
    text = minutes_markdown(minutes_request([_input([PAPER])], [Pillar.FINANCING], ["US/financing"]), locale)
    assert heading in text
    # The name shown as typed (no Markdown link from its brackets), its type, exact size and SHA-256.
    line = next(line for line in text.splitlines() if PAPER.sha256 in line)
    assert line == f"- posición\\_\\[final\\].pdf — PDF, {size}, SHA-256 `{PAPER.sha256}`"


def test_minutes_without_files_are_as_before_and_a_file_changes_their_fingerprint() -> None:
    without = minutes_markdown(minutes_request([_input([])], [Pillar.FINANCING], []), Locale.EN)
    with_file = minutes_markdown(minutes_request([_input([PAPER])], [Pillar.FINANCING], []), Locale.EN)
    assert "Attached files" not in without
    assert document_sha256({Locale.EN: without}) != document_sha256({Locale.EN: with_file})

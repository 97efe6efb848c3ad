"""What the operations decide about files without a server: which earlier files a resubmission keeps, and the
names files are exported under (safe, unique, never outside the folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from operations.files import FileChoiceError, export_names, inside, safe_name, to_keep
from schemas.annexes import FileRecord
from schemas.declaration import Pillar
from schemas.pillar_inputs import SubmissionRecord
from tests.helpers import CL_LEAD, CL_OPERATOR, submission
from tests.helpers.attachments import ATTACHED_AT, file_record

pytestmark = pytest.mark.files


def _file(name: str, fill: str) -> FileRecord:
    return file_record(name, fill * 64)


A, B, C = _file("a.pdf", "a"), _file("b.pdf", "b"), _file("c.pdf", "c")
CURRENT = SubmissionRecord(
    revision=2,
    input=submission("CL", Pillar.FINANCING, CL_LEAD, attachments=[A, B]).input,
    submitted_by=CL_OPERATOR,
    channel="operator",
    submitted_at=ATTACHED_AT,
)


def test_a_resubmission_keeps_every_earlier_file_but_those_dropped_or_attached_again() -> None:
    assert to_keep(CURRENT, [], []) == [A.sha256, B.sha256]
    assert to_keep(CURRENT, ["a.pdf"], []) == [B.sha256]  # by name
    assert to_keep(CURRENT, [B.sha256], []) == [A.sha256]  # by SHA-256
    assert to_keep(CURRENT, [], [A.sha256]) == [B.sha256]  # attached again: the new record replaces it
    assert to_keep(None, [], []) == []


def test_dropping_a_file_the_input_does_not_have_is_refused_naming_it_and_what_it_has() -> None:
    with pytest.raises(FileChoiceError) as refused:
        to_keep(CURRENT, ["c.pdf"], [])
    assert str(refused.value).startswith("--drop c.pdf: no file of CL/financing revision 2 has that name or SHA-256")
    assert "a.pdf" in str(refused.value) and "b.pdf" in str(refused.value)
    with pytest.raises(FileChoiceError, match=r"--drop a\.pdf: there is no earlier input"):
        to_keep(None, ["a.pdf"], [])


def test_exported_names_are_safe_and_unique_per_file() -> None:
    assert safe_name("Posición final (v2).PDF") == "Posicion_final_v2.pdf"
    assert safe_name("..hidden.csv") == "hidden.csv"
    assert safe_name("残り.pdf") == "file.pdf"
    assert safe_name("x" * 300 + ".pdf") == "x" * 80 + ".pdf"
    names = export_names([_file("paper.pdf", "a"), _file("paper.pdf", "b"), _file("paper.pdf", "a"), C])
    assert names == {"a" * 64: "paper.pdf", "b" * 64: "paper-2.pdf", "c" * 64: "c.pdf"}


def test_a_name_never_lands_outside_the_folder(tmp_path: Path) -> None:
    assert inside(tmp_path, "paper.pdf") == (tmp_path / "paper.pdf").resolve()
    for name in ("../paper.pdf", "sub/paper.pdf", "/etc/passwd"):
        with pytest.raises(FileChoiceError):
            inside(tmp_path, name)

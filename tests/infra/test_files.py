"""What may be attached, judged by content: real files of every accepted type are recognised whatever
their size, and what is not one of them (an executable renamed `.pdf`, a plain ZIP, a PDF named `.xlsx`,
an empty or oversized file) is refused with a message that names the file and says what is wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.files import FileRefused, check_file, sniff
from schemas.annexes import MAX_FILE_BYTES, MediaType
from tests.infra import samples

REAL_FILES: list[tuple[str, Callable[[], bytes], MediaType]] = [
    ("position-paper.pdf", samples.pdf, MediaType.PDF),
    ("annex-I.docx", samples.docx, MediaType.DOCX),
    ("projects.xlsx", samples.xlsx, MediaType.XLSX),
    ("anexo-II.odt", samples.odt, MediaType.ODT),
    ("proyectos.ods", samples.ods, MediaType.ODS),
    ("proyectos.csv", samples.csv_semicolons, MediaType.CSV),
    ("map.png", samples.png, MediaType.PNG),
    ("site.jpg", samples.jpeg, MediaType.JPEG),
    ("site.jpeg", samples.jpeg, MediaType.JPEG),
]


@pytest.mark.parametrize(("name", "make", "media_type"), REAL_FILES, ids=[n for n, _, _ in REAL_FILES])
def test_real_files_are_recognised_by_their_content(
    name: str, make: Callable[[], bytes], media_type: MediaType
) -> None:
    data = make()
    assert sniff(data) is media_type
    assert check_file(name, data) == (name, media_type)
    # The extension's case does not matter; the content decides.
    upper = name.rsplit(".", 1)[0] + name[name.rindex(".") :].upper()
    assert check_file(upper, data) == (upper, media_type)


def test_the_samples_are_what_they_claim() -> None:
    import io
    import zipfile

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(samples.xlsx())).active
    assert sheet is not None and sheet["B2"].value == "lithium"
    for data in (samples.odt(), samples.ods()):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            first = archive.infolist()[0]
            assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert samples.csv_semicolons().startswith(b"\xef\xbb\xbf")
    pdf = samples.pdf()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[start:].startswith(b"xref\n")


def test_a_csv_with_commas_and_no_bom_is_a_csv_too() -> None:
    assert check_file("list.csv", b"project,mineral\nSalar,lithium\n") == ("list.csv", MediaType.CSV)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.pdf", samples.elf(), "report.pdf is not a PDF, DOCX, XLSX, ODT, ODS, CSV, PNG or JPEG file"),
        ("report.pdf", samples.windows_exe(), "report.pdf is not a PDF, DOCX, XLSX, ODT, ODS, CSV, PNG or JPEG file"),
        ("setup.exe", samples.windows_exe(), "setup.exe is not a PDF"),
        ("archive.zip", samples.plain_zip(), "archive.zip is not a PDF"),
        ("annex.docx", samples.plain_zip(), "annex.docx is not a PDF"),
        (
            "projects.xlsx",
            samples.pdf(),
            "projects.xlsx is a PDF file by its content, but its name ends in .xlsx: name it projects.pdf",
        ),
        ("paper", samples.pdf(), "paper is a PDF file by its content, but its name ends in no extension"),
        ("sheet.docx", samples.xlsx(), "sheet.docx is a XLSX file by its content, but its name ends in .docx"),
        ("empty.pdf", b"", "empty.pdf is empty"),
        ("", samples.pdf(), "a file has no name"),
        ("folder/", samples.pdf(), "a file has no name"),
    ],
)
def test_refusals_say_what_is_wrong(name: str, data: bytes, message: str) -> None:
    with pytest.raises(FileRefused) as refused:
        check_file(name, data)
    assert str(refused.value).startswith(message), str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_file_over_25_mib_is_refused_and_25_mib_is_not() -> None:
    at_limit = samples.pdf() + b"\0" * (MAX_FILE_BYTES - len(samples.pdf()))
    assert check_file("big.pdf", at_limit) == ("big.pdf", MediaType.PDF)
    with pytest.raises(FileRefused) as refused:
        check_file("big.pdf", at_limit + b"\0")
    assert str(refused.value) == "big.pdf is 26,214,401 bytes; the limit is 26,214,400 bytes (25 MiB)"


@pytest.mark.parametrize(
    "given",
    [
        "C:\\Users\\vrojas\\Documents\\position-paper.pdf",
        "/home/vrojas/position-paper.pdf",
        "../../etc/position-paper.pdf",
        "  position-paper.pdf ",
    ],
)
def test_a_name_with_folders_is_reduced_to_its_last_part(given: str) -> None:
    assert check_file(given, samples.pdf()) == ("position-paper.pdf", MediaType.PDF)


def test_a_long_name_is_shortened_in_the_message() -> None:
    name = "x" * 200 + ".pdf"
    with pytest.raises(FileRefused) as refused:
        check_file(name, b"")
    assert str(refused.value) == "x" * 77 + "... is empty"

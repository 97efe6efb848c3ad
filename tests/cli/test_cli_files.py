"""Files through the `consult` CLI, end to end on the dev server with a real worker: attached to inputs (kept,
dropped), annexed to minutes and drafts, refused when bad (exit 2, nothing recorded), listed by the status views
and the dossier, exported with a SHA256SUMS that `sha256sum -c` accepts; and a 20 MB PDF that goes through
External Storage while the histories stay small.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from infra.settings import Settings
from infra.temporal import data_converter
from operations import files
from tests.helpers import CL_OPERATOR, eventually, running_worker
from tests.helpers.attachments import csv, pdf, png, sha256
from tests.helpers.cli import EXAMPLES, Consult, started_with_round

pytestmark = [pytest.mark.files, pytest.mark.devserver]

CL_APPROVER, US_LEAD = "cfuentes@minrel.example", "mturner@state.example"


@dataclass
class Stored:
    """A client whose data converter keeps files in the test's store, and what `consult` needs to use it too."""

    client: Client
    env: dict[str, str]


@pytest_asyncio.fixture
async def stored(dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stored]:
    if dev_env.client.data_converter.external_storage is not None:
        yield Stored(dev_env.client, {})  # the session's store, exported to every process it starts
        return
    folder = tmp_path_factory.mktemp("storage")
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=data_converter(Settings(storage_dir=folder)),
    )
    yield Stored(client, {"CONSULT_STORAGE": "fs", "CONSULT_STORAGE_DIR": str(folder)})


def _input_file(tmp_path: Path, party: str, pillar: str) -> Path:
    """The example input for `pillar`, written by `party`'s technical lead."""
    lead = {"CL": "vrojas@minrel.example", "US": US_LEAD}[party]
    text = (EXAMPLES / f"cl-{pillar}.yaml").read_text()
    for author in ("vrojas@minrel.example", "asoto@mineria.example"):
        text = text.replace(author, lead)
    path = tmp_path / f"{party}-{pillar}.yaml"
    path.write_text(text)
    return path


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


async def test_an_operator_attaches_keeps_drops_and_exports_files_from_the_cli(
    dev_env: WorkflowEnvironment, stored: Stored, outbox: Outbox, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    paper = _write(uploads, "Position paper (CL).pdf", pdf("CL financing"))
    projects = _write(uploads, "projects.csv", csv())
    photo = _write(uploads, "site.png", png())
    study = _write(uploads, "study.pdf", pdf("study"))
    annex_text = _write(uploads, "annex.pdf", pdf("annex"))
    # Bad files: an executable named .pdf, a PDF named .xlsx, a folder, a path that is not there.
    evil = _write(uploads, "evil.pdf", b"\x7fELF\x02\x01\x01" + bytes(200))
    misnamed = _write(uploads, "budget.xlsx", pdf("not a spreadsheet"))
    async with running_worker(stored.client, outbox) as task_queue:
        consult = Consult(stored.client, task_queue)
        consult.env.update(stored.env, CONSULT_OPERATOR=CL_OPERATOR)
        cid = await started_with_round(consult, tmp_path, await dev_env.get_current_time())
        financing = str(_input_file(tmp_path, "CL", "financing"))
        submit = ("input", "submit", cid, financing, "--party", "CL", "--pillar", "financing", "--by", CL_OPERATOR)

        for bad, said in (
            (evil, "evil.pdf is not a PDF, DOCX, XLSX, ODT, ODS, CSV, PNG or JPEG file by its content"),
            (misnamed, "budget.xlsx is a PDF file by its content, but its name ends in .xlsx: name it budget.pdf"),
            (uploads, f"{uploads} is a folder, not a file"),
            (uploads / "missing.pdf", f"{uploads / 'missing.pdf'}: no such file"),
        ):
            refused = await consult(*submit, "--attach", str(paper), "--attach", str(bad))
            assert refused.exit_code == 2, refused.output
            assert said in refused.stderr and "nothing was recorded" in refused.stderr
            assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
        assert (await consult.json("round", "status", cid))["submissions"] == []

        first = await consult(*submit, "--attach", str(paper), "--attach", str(projects))
        assert first.exit_code == 0, first.output
        assert "revision 1, with 2 file(s) (0 kept)" in first.stdout
        assert (
            f"Position paper (CL).pdf (PDF, {paper.stat().st_size:,} bytes, SHA-256 {sha256(paper.read_bytes())})"
            in (first.stdout)
        )
        unknown = await consult(*submit, "--drop", "nothing.pdf")
        assert unknown.exit_code == 2
        assert "--drop nothing.pdf: no file of CL/financing revision 1 has that name or SHA-256" in unknown.stderr
        # Drop the project list (by name), add a photo: the paper is kept.
        second = await consult(*submit, "--attach", str(photo), "--drop", "projects.csv")
        assert second.exit_code == 0, second.output
        assert "revision 2, with 2 file(s) (1 kept)" in second.stdout
        # The same input again is not a revision; a changed one with no file options keeps every file.
        same = await consult(*submit)
        assert same.exit_code == 1 and "the input of CL/financing is already this one (revision 2)" in same.stderr
        changed = Path(financing).read_text().replace("summary: A blended", "summary: A revised blended")
        Path(financing).write_text(changed)
        third = await consult(*submit)
        assert third.exit_code == 0 and "revision 3, with 2 file(s) (2 kept)" in third.stdout
        grid = await consult.json("round", "status", cid)
        current = [s for s in grid["submissions"] if s["superseded_at"] is None]
        assert [f["name"] for f in current[0]["input"]["attachments"]] == ["Position paper (CL).pdf", "site.png"]
        shown = await consult("round", "status", cid)
        assert "Position paper (CL).pdf" in shown.stdout and sha256(photo.read_bytes()) in shown.stdout

        for party, pillar in (("CL", "supply_chain"), ("US", "supply_chain"), ("US", "financing")):
            path = str(_input_file(tmp_path, party, pillar))
            done = await consult(
                "input", "submit", cid, path, "--party", party, "--pillar", pillar, "--by", CL_OPERATOR
            )
            assert done.exit_code == 0, done.output
        approving = await eventually(lambda: _round_in(consult, cid, "minutes_approval"))
        minutes_text = approving["minutes"][-1]["documents"]["en"]
        assert sha256(paper.read_bytes()) in minutes_text and sha256(projects.read_bytes()) not in minutes_text

        changes = await consult(
            "round", "decide", cid, "--approver", CL_APPROVER, "--decision", "request_changes", "--comment", "annex"
        )
        assert changes.exit_code == 0, changes.output
        await eventually(lambda: _round_in(consult, cid, "changes_requested"))
        (tmp_path / "minutes.en.md").write_text("# Minutes\n\nSee the annexed study.\n")
        minutes = ("round", "minutes", cid, "--en", str(tmp_path / "minutes.en.md"), "--by", CL_OPERATOR)
        bad_annex = await consult(*minutes, "--annex", str(evil))
        assert bad_annex.exit_code == 2 and "evil.pdf is not a PDF" in bad_annex.stderr
        reissued = await consult(*minutes, "--annex", str(study))
        assert reissued.exit_code == 0, reissued.output
        assert "Minutes version 2 issued" in reissued.stdout and "study.pdf (PDF" in reissued.stdout
        await eventually(lambda: _round_in(consult, cid, "minutes_approval"))
        for approver in (CL_APPROVER, US_LEAD):
            decided = await consult("round", "decide", cid, "--approver", approver, "--decision", "approve")
            assert decided.exit_code == 0, decided.output
        await eventually(lambda: _consultation_round_closed(consult, cid))

        assert (await consult("agreement", "start", cid, "--by", CL_OPERATOR)).exit_code == 0
        (tmp_path / "draft.en.md").write_text("# Agreement\n\nAnnex 1 is part of it.\n")
        draft = await consult(
            "draft",
            "submit",
            cid,
            "--en",
            str(tmp_path / "draft.en.md"),
            "--annex",
            str(annex_text),
            "--annex",
            str(projects),
            "--by",
            CL_OPERATOR,
        )
        assert draft.exit_code == 0, draft.output
        assert "annex.pdf (PDF" in draft.stdout and "projects.csv (CSV" in draft.stdout
        status = await consult("status", cid)
        assert "annex.pdf" in status.stdout and sha256(annex_text.read_bytes()) in status.stdout
        await eventually(lambda: _draft_awaits(consult, cid))
        for approver in (CL_APPROVER, US_LEAD):
            decided = await consult("draft", "decide", cid, "--approver", approver, "--decision", "approve")
            assert decided.exit_code == 0, decided.output
        await eventually(lambda: _stage(consult, cid, "concluded"))

        export = tmp_path / "export"
        both = await consult("dossier", cid, "--with-files", str(export), "--out", str(tmp_path / "x.html"))
        assert both.exit_code == 2
        # A path that cannot be a folder (an existing file, a folder under a file): one line naming it, exit 2.
        for wrong in (paper, paper / "sub"):
            refused = await consult("dossier", cid, "--with-files", str(wrong))
            assert refused.exit_code == 2, refused.output
            assert str(wrong) in refused.stderr and "Traceback" not in refused.output
            assert len(refused.stderr.strip().splitlines()) == 1
        written = await consult("dossier", cid, "--with-files", str(export))
        assert written.exit_code == 0, written.output

    record = json.loads((export / f"dossier-{cid}.json").read_text())
    listed = {(f["where"], f["name"]) for f in record["files"]}
    assert {
        ("round 1, input CL/financing revision 1", "projects.csv"),
        ("round 1, input CL/financing revision 3", "site.png"),
        ("round 1, minutes version 2", "study.pdf"),
        ("agreement draft version 1", "annex.pdf"),
    } <= listed
    paper_entry = next(f for f in record["files"] if f["name"] == "Position paper (CL).pdf")
    # Attached by the operator who ran the command (the input's author is recorded as the input's).
    assert paper_entry["attached_by"] == CL_OPERATOR and paper_entry["media_type"] == "application/pdf"
    assert paper_entry["size"] == paper.stat().st_size
    # Every file written once, under a safe name, byte for byte; sha256sum checks the lot.
    for original in (paper, projects, photo, study, annex_text):
        name = next(f["export_name"] for f in record["files"] if f["sha256"] == sha256(original.read_bytes()))
        assert (export / "files" / name).read_bytes() == original.read_bytes()
    assert (export / "files" / "Position_paper_CL.pdf").exists()
    sums = (export / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 5 + 2  # the files and the record (HTML and JSON)
    checked = subprocess.run(
        [_sha256sum(), "-c", "SHA256SUMS"], cwd=export, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 7
    html = (export / f"dossier-{cid}.html").read_text()
    assert 'href="files/Position_paper_CL.pdf"' in html and sha256(study.read_bytes()) in html


async def test_a_20_mb_pdf_goes_end_to_end_and_the_histories_stay_small(
    dev_env: WorkflowEnvironment, stored: Stored, outbox: Outbox, tmp_path: Path
) -> None:
    big = _write(tmp_path, "annual-report.pdf", pdf("annual report", size=20 * 1024 * 1024))
    data = big.read_bytes()
    async with running_worker(stored.client, outbox) as task_queue:
        consult = Consult(stored.client, task_queue)
        consult.env.update(stored.env)
        cid = await started_with_round(consult, tmp_path, await dev_env.get_current_time())
        submitted = await consult(
            "input",
            "submit",
            cid,
            str(_input_file(tmp_path, "CL", "financing")),
            "--party",
            "CL",
            "--pillar",
            "financing",
            "--attach",
            str(big),
            "--by",
            CL_OPERATOR,
        )
        assert submitted.exit_code == 0, submitted.output
        closed = await consult("round", "close", cid, "--reason", "Meeting brought forward", "--by", CL_OPERATOR)
        assert closed.exit_code == 0, closed.output
        approving = await eventually(lambda: _round_in(consult, cid, "minutes_approval"))
        assert sha256(data) in approving["minutes"][-1]["documents"]["en"]
        # Recorded with the input, by SHA-256, and read back identical.
        current = await files.current_input(stored.client, cid, "CL", "financing")
        assert current is not None
        [record] = current.input.attachments
        assert record.sha256 == sha256(data)
        assert (record.name, record.size) == ("annual-report.pdf", len(data))
        assert await files.fetch(stored.client, record) == data
        await eventually(lambda: _consultation_heard(consult, cid))
        histories = [
            await stored.client.get_workflow_handle(f"consultation-{cid}{suffix}").fetch_history()
            for suffix in ("", "-round-1")
        ]
    sample = data[len(data) // 2 : len(data) // 2 + 64]  # random bytes from the middle of the file
    for history in histories:
        sizes = [len(event.SerializeToString()) for event in history.events]
        assert max(sizes) < 4 * 1024, f"an event of {max(sizes):,} bytes in {history.workflow_id}"
        assert sum(sizes) < 64 * 1024
        assert all(sample not in event.SerializeToString() for event in history.events)
    assert any(record.reference.encode() in e.SerializeToString() for e in histories[1].events)


def _sha256sum() -> str:
    path = shutil.which("sha256sum")
    assert path is not None, "the coreutils sha256sum binary is needed"
    return path


async def _round_in(consult: Consult, cid: str, state: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("round", "status", cid)
    return status if status["state"] == state else None


async def _consultation_round_closed(consult: Consult, cid: str) -> bool:
    return bool((await consult.json("status", cid))["rounds"][0]["state"] == "closed")


async def _consultation_heard(consult: Consult, cid: str) -> bool:
    return bool((await consult.json("status", cid))["rounds"][0]["state"] == "minutes_approval")


async def _draft_awaits(consult: Consult, cid: str) -> bool:
    return bool((await consult.json("status", cid))["agreement_approval"])


async def _stage(consult: Consult, cid: str, stage: str) -> bool:
    return bool((await consult.json("status", cid))["stage"] == stage)

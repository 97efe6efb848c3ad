"""Every bad input at the CLI's edge gets a clear answer: the field, the reason and the limit, exit 2,
no traceback, nothing started or recorded. And a consultation no worker serves says so (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations.consultations import start
from schemas.declaration import Declaration
from tests.helpers import CL_OPERATOR, DAY, declaration_data, running_worker
from tests.helpers.cli import Consult

SIGNED = "2026-11-27T10:00:00-03:00"


def _many_parties(data: dict[str, Any], count: int) -> dict[str, Any]:
    template = data["parties"][1]
    codes = [f"{a}{b}{c}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJ" for c in "ABCD"][:count]
    lead = template["counterparts"][0]
    data["parties"] = [
        {**template, "code": code, "counterparts": [{**lead, "email": f"m@{code.lower()}.example"}]} for code in codes
    ]
    return data


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _bad_files(tmp_path: Path, ids: list[str]) -> list[tuple[Path, str]]:
    """(file, what the operator is told): each once accepted or answered with a traceback."""
    files: list[tuple[Path, str]] = []

    def add(name: str, text: str, expected: str) -> None:
        path = tmp_path / name
        path.write_text(text)
        files.append((path, expected))

    def valid() -> dict[str, Any]:
        data = declaration_data(SIGNED)
        ids.append(data["id"])
        return data

    block = valid()
    del block["title"]
    add(
        "block.yaml",
        "title: |\n  Joint\n  Declaration\n" + yaml.safe_dump(block),
        "title: must not contain line breaks",
    )
    crlf = valid()
    crlf["parties"][0]["counterparts"][0]["name"] = "Valentina\r\nBcc: x@evil.example"
    add("crlf.json", json.dumps(crlf), "parties.0.counterparts.0.name: must not contain line breaks")
    add("deep.yaml", yaml.safe_dump(valid()) + "extra: " + _nested(400) + "\n", "nested more than 32 levels deep")
    add("deep.json", json.dumps(valid())[:-1] + ', "extra": ' + _nested(400) + "}", "nested more than 32 levels deep")
    add(
        "digits.json",
        json.dumps(valid())[:-1] + ', "first_round_within_days": ' + "1" * 4400 + "}",
        "first_round_within_days: a number of 4,400 digits is more than can be read (at most 4,300)",
    )
    add(
        "year-1.yaml",
        yaml.safe_dump(valid() | {"signed_at": "0001-01-01T00:00:00+14:00"}),
        "signed_at: must fall between the years 2000 and 2099",
    )
    add("unix.json", json.dumps(valid() | {"signed_at": 1764200000}), "signed_at: must be an ISO 8601 date")
    add("zero.yaml", yaml.safe_dump(valid() | {"signed_at": "0"}), "signed_at: must be an ISO 8601 date")
    add(
        "parties.yaml",
        yaml.safe_dump(_many_parties(valid(), 340)),
        "parties: List should have at most 200 items, not 340",
    )
    add(
        "title.json",
        json.dumps(valid() | {"title": "x" * 3_000_000}),
        "title: String should have at most 300 characters",
    )
    add("twice.json", json.dumps(valid())[:-1] + ', "title": "Other"}', "the key 'title' appears twice")
    return files


async def test_bad_declaration_files_are_explained_and_start_nothing(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    consult = Consult(dev_env.client, "unused")
    ids: list[str] = []
    for file, expected in _bad_files(tmp_path, ids):
        result = await consult("start", str(file))
        assert result.exit_code == 2, (file.name, result.output[-500:])
        assert expected in result.stderr, (file.name, result.stderr[-500:])
        assert "Traceback" not in result.output and len(result.stderr) < 2_000, file.name
    for cid in ids:
        with pytest.raises(RPCError) as error:
            await dev_env.client.get_workflow_handle(f"consultation-{cid}").describe()
        assert error.value.status == RPCStatusCode.NOT_FOUND


async def test_bad_options_are_refused_and_record_nothing(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:
    now = await dev_env.get_current_time()
    title = "Joint Declaration [draft] [/bold]"  # brackets are text, not Rich markup
    declaration = Declaration.model_validate(declaration_data(now - DAY, title=title))
    async with running_worker(dev_env.client, outbox) as task_queue:
        await start(dev_env.client, declaration, task_queue)
        consult = Consult(dev_env.client, task_queue)
        cid, until = declaration.id, (now + 30 * DAY).date().isoformat()
        by = ("--by", CL_OPERATOR)

        long_reason = await consult("extend", cid, "--until", until, "--reason", "r" * 2001, *by)
        assert long_reason.exit_code == 2 and "reason: String should have at most 2000 characters" in long_reason.stderr
        escape = await consult("withdraw", cid, "--reason", "Superseded\x1b[2J", *by)
        assert escape.exit_code == 2 and "reason: must not contain control characters (found '\\x1b'" in escape.stderr
        for number in ("20261210", "1764200000"):
            opened = await consult("round", "open", cid, "--meeting", number, "--inputs-due", until, *by)
            assert opened.exit_code == 2 and f"--meeting: '{number}' is not a date" in opened.stderr
        far = await consult("extend", cid, "--until", "9999-12-31T23:59+14:00", "--reason", "x", *by)
        assert far.exit_code == 2 and "is not a date between the years 2000 and 2099" in far.stderr

        status = await consult.json("status", cid)
        table = await consult("status", cid)
    assert status["stage"] == "declared" and status["extensions"] == [] and status["withdrawal"] is None
    assert table.exit_code == 0 and title in table.stdout, table.output[-500:]


async def test_a_consultation_no_worker_serves_says_so(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """About a minute after the last worker stopped, the server answers a query with FAILED_PRECONDITION
    "no poller seen for task queue recently, worker may be down" (checked against the dev server); waiting
    for that minute here would be slow, so the query raises what the server would."""
    declaration = Declaration.model_validate(declaration_data(await dev_env.get_current_time()))
    await start(dev_env.client, declaration, "consultations-without-worker")

    async def no_poller(*args: object, **kwargs: object) -> Any:
        raise RPCError(
            "no poller seen for task queue recently, worker may be down", RPCStatusCode.FAILED_PRECONDITION, b""
        )

    monkeypatch.setattr(WorkflowHandle, "query", no_poller)
    consult = Consult(dev_env.client, "consultations-without-worker")
    for command in (("status", declaration.id), ("round", "status", declaration.id)):
        result = await consult(*command)
        assert result.exit_code == 1, result.output
        assert (
            "no worker is running for task queue consultations-without-worker; start `consult worker`" in result.stderr
        )
        assert "Traceback" not in result.output

"""The `consult` CLI through Typer's runner, against the real Temporal dev server and a real worker:
starting, following and ending a consultation, and every mistake an operator can make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from consult.cli import app
from consult.outbox import Outbox
from infra.local import free_port
from tests.helpers import CL_OPERATOR, DAY, US_OPERATOR, declaration_data, eventually, notices_of, running_worker
from tests.helpers.cli import Consult, write_declaration


async def test_an_operator_runs_a_consultation_from_the_cli(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    now = await dev_env.get_current_time()
    data = declaration_data(now - DAY)
    cid = data["id"]
    file = write_declaration(tmp_path, data)
    async with running_worker(dev_env.client, outbox) as task_queue:
        consult = Consult(dev_env.client, task_queue)

        started = await consult("start", str(file))
        assert started.exit_code == 0, started.output
        assert f"Started consultation-{cid}" in started.stdout
        status = await consult.json("status", cid)
        assert status["stage"] == "declared" and status["parties"] == ["CL", "US"]

        again = await consult("start", str(file))
        assert again.exit_code == 1 and "already exists" in again.stderr and "nothing was started" in again.stderr

        bad_date = await consult(
            "round", "open", cid, "--meeting", "tomorrow", "--inputs-due", "2026-01-01", "--by", CL_OPERATOR
        )
        assert bad_date.exit_code == 2 and "--meeting: 'tomorrow' is not a date" in bad_date.stderr

        nobody = await consult("round", "open", cid, "--meeting", "2099-01-01", "--inputs-due", "2098-12-01")
        assert nobody.exit_code == 2 and "who is acting?" in nobody.stderr

        late = (now + 30 * DAY).date().isoformat()
        refused = await consult(
            "round",
            "open",
            cid,
            "--meeting",
            late,
            "--inputs-due",
            (now + 5 * DAY).date().isoformat(),
            "--by",
            CL_OPERATOR,
        )
        assert refused.exit_code == 1 and "after the first-round deadline" in refused.stderr
        assert (await consult.json("status", cid))["rounds"] == []

        extended = await consult(
            "extend",
            cid,
            "--until",
            (now + 40 * DAY).date().isoformat(),
            "--reason",
            "Ministers' agendas",
            CONSULT_OPERATOR=US_OPERATOR,
        )
        assert extended.exit_code == 0, extended.output
        opened = await consult(
            "round",
            "open",
            cid,
            "--meeting",
            late,
            "--inputs-due",
            (now + 25 * DAY).date().isoformat(),
            "--pillars",
            "supply_chain,financing",
            "--by",
            CL_OPERATOR,
        )
        assert opened.exit_code == 0, opened.output and "Round 1 opened" in opened.stdout
        status = await consult.json("status", cid)
        assert status["stage"] == "technical_rounds"
        assert (
            status["extensions"][0]["by"] == US_OPERATOR and status["extensions"][0]["reason"] == "Ministers' agendas"
        )
        assert status["rounds"][0]["pillars"] == ["supply_chain", "financing"]

        listed = await eventually(lambda: _listed(consult, cid, "--stage", "technical_rounds"))
        assert listed["stage"] == "technical_rounds" and listed["overdue"] is False

        table = await consult("status", cid)
        assert "technical_rounds" in table.stdout and "Ministers' agendas" in table.stdout

        withdrawn = await consult("withdraw", cid, "--reason", "Superseded", "--by", CL_OPERATOR)
        assert withdrawn.exit_code == 0, withdrawn.output
        final = await eventually(lambda: _final(consult, cid))
        assert final["withdrawal"]["reason"] == "Superseded"

    kinds = ["opened", "deadline_extended", "round_scheduled", "withdrawn"]
    assert all(notices_of(outbox, cid, kind) for kind in kinds)


async def _listed(consult: Consult, cid: str, *filters: str) -> dict[str, Any] | None:
    rows = await consult.json("list", *filters)
    return next((r for r in rows if r["workflow_id"] == f"consultation-{cid}"), None)


async def _final(consult: Consult, cid: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("status", cid)
    return status if status["stage"] == "withdrawn" and status["notices"][-1]["delivered"] else None


async def test_a_bad_declaration_file_is_explained_and_starts_nothing(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    data = declaration_data("2026-11-27T10:00:00-03:00")
    data["parties"][1]["counterparts"][0]["roles"] = ["technical_lead"]
    data["signed_at"] = "2026-11-27T10:00:00"
    consult = Consult(dev_env.client, "unused")

    result = await consult("start", str(write_declaration(tmp_path, data)))

    assert result.exit_code == 2
    assert "is not a valid declaration" in result.stderr
    assert "signed_at: Input should have timezone info" in result.stderr
    assert "parties.1: party US has no counterpart with the role approver" in result.stderr
    assert "Traceback" not in result.output
    try:
        await dev_env.client.get_workflow_handle(f"consultation-{data['id']}").describe()
        raise AssertionError("a workflow was started from an invalid file")
    except RPCError as error:
        assert "not found" in str(error).lower()


async def test_plain_mistakes_get_plain_messages(dev_env: WorkflowEnvironment) -> None:
    consult = Consult(dev_env.client, "unused")
    unknown = await consult("status", "no-such-consultation")
    assert unknown.exit_code == 1 and "there is no consultation no-such-consultation" in unknown.stderr
    missing = await consult("start", "/nonexistent/declaration.yaml")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    unreachable = await consult("status", "x", CONSULT_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    assert unreachable.exit_code == 1 and "cannot reach Temporal" in unreachable.stderr
    bad_stage = await consult("list", "--stage", "finished")
    assert bad_stage.exit_code == 2 and "finished" in bad_stage.output
    bad_pillar = await consult(
        "round",
        "open",
        "x",
        "--meeting",
        "2099-01-02",
        "--inputs-due",
        "2099-01-01",
        "--pillars",
        "tourism",
        "--by",
        CL_OPERATOR,
    )
    assert bad_pillar.exit_code == 2 and "unknown pillar(s) tourism" in bad_pillar.stderr
    for result in (unknown, missing, unreachable, bad_stage, bad_pillar):
        assert "Traceback" not in result.output


async def test_what_is_recorded_stays_recorded(dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path) -> None:
    now = await dev_env.get_current_time()
    data = declaration_data(now)
    cid = data["id"]
    async with running_worker(dev_env.client, outbox) as task_queue:
        consult = Consult(dev_env.client, task_queue)
        assert (await consult("start", str(write_declaration(tmp_path, data)))).exit_code == 0
        empty_reason = await consult(
            "extend", cid, "--until", (now + 30 * DAY).date().isoformat(), "--reason", "", "--by", CL_OPERATOR
        )
        assert (
            empty_reason.exit_code == 2 and "reason" in empty_reason.stderr and "Traceback" not in empty_reason.output
        )
        assert (await consult("withdraw", cid, "--reason", "Superseded", "--by", CL_OPERATOR)).exit_code == 0
        await eventually(lambda: _final(consult, cid))
        again = await consult(
            "extend", cid, "--until", (now + 30 * DAY).date().isoformat(), "--reason", "x", "--by", CL_OPERATOR
        )
        round_ = await consult(
            "round", "open", cid, "--meeting", "2099-01-02", "--inputs-due", "2099-01-01", "--by", CL_OPERATOR
        )
    assert again.exit_code == 1 and "refused: the consultation is withdrawn" in again.stderr
    assert round_.exit_code == 1 and "refused: the consultation is withdrawn" in round_.stderr


async def test_a_future_signature_or_a_repeated_key_starts_nothing(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    consult = Consult(dev_env.client, "unused")
    future = declaration_data((await dev_env.get_current_time()) + 365 * DAY)
    result = await consult("start", str(write_declaration(tmp_path, future)))
    assert result.exit_code == 2 and "is in the future" in result.stderr
    repeated = tmp_path / "repeated.yaml"
    repeated.write_text(yaml.safe_dump(declaration_data("2026-11-27T10:00:00-03:00")) + "title: Second title\n")
    result = await consult("start", str(repeated))
    assert result.exit_code == 2 and "the key 'title' appears twice" in result.stderr
    empty = await consult("status", " ")
    assert empty.exit_code == 2 and "give the consultation's id" in empty.output


def test_the_help_names_every_group_and_where_the_operator_comes_from() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    rounds = runner.invoke(app, ["round", "--help"], env={"COLUMNS": "200"})
    opening = runner.invoke(app, ["round", "open", "--help"], env={"COLUMNS": "200"})

    assert top.exit_code == rounds.exit_code == opening.exit_code == 0
    for command in ("start", "status", "list", "extend", "withdraw", "dossier", "round", "input", "draft", "dev"):
        assert f" {command} " in top.stdout
    for command in ("open", "status", "close", "export", "minutes", "decide"):
        assert f" {command} " in rounds.stdout
    assert "--by" in opening.stdout and "CONSULT_OPERATOR" in opening.stdout and "Example" in opening.stdout

"""The `consult` CLI through Typer's runner, against the real Temporal dev server and a real worker."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from consult.cli import app
from consult.outbox import Outbox
from infra.local import free_port
from tests.helpers import CL_OPERATOR, US_OPERATOR, declaration_data, eventually, notices_of, running_worker

DAY = timedelta(days=1)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "inputs"


class Consult:
    """Runs `consult ...` as an operator would, pointed at the test's server and task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.env = {
            "CONSULT_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "CONSULT_TASK_QUEUE": task_queue,
            "CONSULT_OPERATOR": "",
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str, **env: str) -> Result:
        runner = CliRunner()
        # The CLI runs its own event loop; keep it off the loop that runs the worker.
        return await asyncio.to_thread(lambda: runner.invoke(app, list(args), env={**self.env, **env}))

    async def json(self, *args: str) -> Any:
        result = await self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def write_declaration(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


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


async def test_an_operator_runs_a_round_from_the_cli(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    now = await dev_env.get_current_time()
    data = declaration_data(now)
    cid = data["id"]
    # The US files: the Chilean examples, written by the US technical lead.
    for pillar in ("supply_chain", "financing"):
        text = (EXAMPLES / f"cl-{pillar}.yaml").read_text()
        text = text.replace("vrojas@minrel.example", "mturner@state.example").replace(
            "asoto@mineria.example", "mturner@state.example"
        )
        (tmp_path / f"us-{pillar}.yaml").write_text(text)
    (tmp_path / "cl-financing.yaml").write_text(
        (EXAMPLES / "cl-financing.yaml").read_text().replace("asoto@mineria.example", "vrojas@minrel.example")
    )
    async with running_worker(dev_env.client, outbox) as task_queue:
        consult = Consult(dev_env.client, task_queue)
        assert (await consult("start", str(write_declaration(tmp_path, data)))).exit_code == 0
        opened = await consult(
            "round",
            "open",
            cid,
            "--meeting",
            (now + 10 * DAY).isoformat(),
            "--inputs-due",
            (now + 8 * DAY).isoformat(),
            "--pillars",
            "supply_chain,financing",
            "--by",
            CL_OPERATOR,
        )
        assert opened.exit_code == 0, opened.output
        await eventually(lambda: _round_ready(consult, cid))

        files = [
            ("CL", "supply_chain", EXAMPLES / "cl-supply_chain.yaml"),
            ("CL", "financing", tmp_path / "cl-financing.yaml"),
            ("US", "supply_chain", tmp_path / "us-supply_chain.yaml"),
        ]
        for party, pillar, file in files:
            submitted = await consult(
                "input", "submit", cid, str(file), "--party", party, "--pillar", pillar, "--by", CL_OPERATOR
            )
            assert submitted.exit_code == 0, submitted.output
        wrong = await consult(
            "input",
            "submit",
            cid,
            str(EXAMPLES / "cl-supply_chain.yaml"),
            "--party",
            "US",
            "--pillar",
            "supply_chain",
            "--by",
            CL_OPERATOR,
        )
        assert wrong.exit_code == 1 and "vrojas@minrel.example is not a technical lead of party US" in wrong.stderr
        bad_file = tmp_path / "bad.yaml"
        bad_file.write_text(
            "author: vrojas@minrel.example\nsummary: ''\nitems:\n  - {mineral: kryptonite, risk: r, measure: m}\n"
        )
        invalid = await consult(
            "input", "submit", cid, str(bad_file), "--party", "CL", "--pillar", "supply_chain", "--by", CL_OPERATOR
        )
        assert invalid.exit_code == 2
        assert "summary: String should have at least 1 character" in invalid.stderr
        assert "items.0.mineral: 'kryptonite' is not on the critical minerals list" in invalid.stderr

        round_id = await consult("status", f"consultation-{cid}-round-1")
        assert round_id.exit_code == 1 and "is a TechnicalRound, not a consultation" in round_id.stderr
        grid = await consult.json("round", "status", cid)
        assert grid["grid"] == {"CL": {"supply_chain": 1, "financing": 1}, "US": {"supply_chain": 1, "financing": 0}}
        assert grid["state"] == "collecting"

        closed = await consult("round", "close", cid, "--reason", "Meeting brought forward", "--by", US_OPERATOR)
        assert closed.exit_code == 0, closed.output
        approving = await eventually(lambda: _round_in(consult, cid, "minutes_approval"))
        assert approving["missing"] == ["US/financing"]
        assert approving["close_reason"] == f"closed early by {US_OPERATOR}: Meeting brought forward"

        changes = await consult(
            "round",
            "decide",
            cid,
            "--approver",
            "cfuentes@minrel.example",
            "--decision",
            "request_changes",
            "--comment",
            "Add the Atacama offtake",
            "--by",
            CL_OPERATOR,
        )
        assert changes.exit_code == 0, changes.output
        await eventually(lambda: _round_in(consult, cid, "changes_requested"))
        edited = tmp_path / "minutes.md"
        edited.write_text("# Minutes of round 1\n\nThe Atacama offtake is recorded.\n")
        exported = await consult("round", "export", cid, "--out", str(tmp_path / "export"))
        assert exported.exit_code == 0 and (tmp_path / "export" / "round-1-minutes-v1.es.md").exists()
        reissued = await consult("round", "minutes", cid, "--en", str(edited), "--by", CL_OPERATOR)
        assert reissued.exit_code == 0 and "Minutes version 2 issued" in reissued.stdout
        await eventually(lambda: _round_in(consult, cid, "minutes_approval"))
        for approver in ("cfuentes@minrel.example", "mturner@state.example"):
            decided = await consult(
                "round", "decide", cid, "--approver", approver, "--decision", "approve", "--by", CL_OPERATOR
            )
            assert decided.exit_code == 0, decided.output
        final = await eventually(lambda: _round_in(consult, cid, "closed"))

        status = await eventually(lambda: _consultation_round_closed(consult, cid))
        shown = await consult("round", "status", cid)
        started = await consult("agreement", "start", cid, "--by", CL_OPERATOR)
        assert started.exit_code == 0, started.output
        assert (await consult.json("status", cid))["stage"] == "drafting_agreement"

    assert status["rounds"][0]["number"] == 1
    assert status["rounds"][0]["minutes_sha256"] == final["minutes"][-1]["sha256"]
    assert status["rounds"][0]["grid"]["US"]["financing"] == 0
    assert [d["decision"] for d in final["decisions"]] == ["request_changes", "approve", "approve"]
    assert all(d["channel"] == "operator" and d["recorded_by"] == CL_OPERATOR for d in final["decisions"])
    assert "Carolina Fuentes" in shown.stdout and "closed" in shown.stdout


async def _round_ready(consult: Consult, cid: str) -> bool:
    return (await consult("round", "status", cid, "--json")).exit_code == 0


async def _round_in(consult: Consult, cid: str, state: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("round", "status", cid)
    return status if status["state"] == state else None


async def _consultation_round_closed(consult: Consult, cid: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("status", cid)
    return status if status["rounds"][0]["state"] == "closed" else None


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


async def test_the_dossier_of_a_concluded_consultation(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    from operations import dossier
    from tests.helpers import APPROVERS, decide, drafting, submit, two_approver_declaration

    declaration = two_approver_declaration(await dev_env.get_current_time())
    async with running_worker(dev_env.client, outbox) as task_queue:
        handle = await drafting(dev_env, declaration, task_queue)
        sha = await submit(handle, "# Agreement\n\nArticle 1.\n", "# Acuerdo\n\nArtículo 1.\n")
        await eventually(lambda: _draft_awaits(handle))
        for approver in APPROVERS:
            await decide(handle, approver, sha)
        result = await handle.result()
    # No worker runs now: the record comes from the finished workflows' results and history.
    consult = Consult(dev_env.client, "unused")
    written = await consult("dossier", declaration.id, "--out", str(tmp_path / "record.html"))
    assert written.exit_code == 0, written.output
    record = json.loads((tmp_path / "record.json").read_text())
    html = (tmp_path / "record.html").read_text()

    assert record["sha256"] == dossier.record_sha256(record) and record["sha256"] in written.stdout
    assert record["consultation"]["stage"] == "concluded"
    assert record["declaration"]["id"] == declaration.id
    minutes_sha = result.rounds[0].minutes_sha256
    assert [(d["approver"], d["sha256"], d["channel"]) for d in record["rounds"][0]["decisions"]] == [
        (a, minutes_sha, "operator") for a in APPROVERS
    ]
    assert [(d["approver"], d["sha256"]) for d in record["consultation"]["agreement_decisions"]] == [
        (a, sha) for a in APPROVERS
    ]
    assert [s["input"]["party"] for s in record["rounds"][0]["submissions"]] == ["CL", "US", "CL", "US"]
    assert {n["kind"] for n in record["consultation"]["notices"]} >= {
        "opened",
        "round_scheduled",
        "drafting_started",
        "concluded",
    }
    for needle in (record["sha256"], sha, minutes_sha or "", "Carolina Fuentes", "David Park", "Artículo 1."):
        assert needle in html
    record["consultation"]["agreement_decisions"][0]["decision"] = "decline"
    assert dossier.record_sha256(record) != record["sha256"]  # any change to the record shows


async def test_an_operator_submits_a_draft_and_records_decisions_from_the_cli(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    from tests.helpers import APPROVERS, drafting, two_approver_declaration

    declaration = two_approver_declaration(await dev_env.get_current_time())
    cid = declaration.id
    (tmp_path / "draft.en.md").write_text("# Agreement\n\nArticle 1.\n")
    (tmp_path / "draft.es.md").write_text("# Acuerdo\n\nArtículo 1.\n")
    async with running_worker(dev_env.client, outbox) as task_queue:
        handle = await drafting(dev_env, declaration, task_queue)
        consult = Consult(dev_env.client, task_queue)
        too_soon = await consult(
            "draft", "decide", cid, "--approver", APPROVERS[0], "--decision", "approve", "--by", CL_OPERATOR
        )
        no_text = await consult("draft", "submit", cid, "--by", CL_OPERATOR)
        submitted = await consult(
            "draft",
            "submit",
            cid,
            "--en",
            str(tmp_path / "draft.en.md"),
            "--es",
            str(tmp_path / "draft.es.md"),
            "--by",
            CL_OPERATOR,
        )
        assert submitted.exit_code == 0, submitted.output
        await eventually(lambda: _draft_awaits(handle))
        changes = await consult(
            "draft",
            "decide",
            cid,
            "--approver",
            APPROVERS[0],
            "--decision",
            "request_changes",
            "--comment",
            "Article 2 is missing",
            CONSULT_OPERATOR=CL_OPERATOR,
        )
        status = await consult.json("status", cid)

    assert too_soon.exit_code == 1 and "no draft has been submitted yet" in too_soon.stderr
    assert no_text.exit_code == 2 and "give the text: --en FILE and/or --es FILE" in no_text.stderr
    (draft,) = status["drafts"]
    assert f"Draft version 1 submitted (SHA-256 {draft['sha256']})" in submitted.stdout
    assert changes.exit_code == 0 and "request_changes v1" in changes.stdout, changes.output
    (decision,) = status["agreement_decisions"]
    assert (decision["approver"], decision["decision"], decision["comment"]) == (
        APPROVERS[0],
        "request_changes",
        "Article 2 is missing",
    )
    assert (decision["sha256"], decision["channel"], decision["recorded_by"]) == (
        draft["sha256"],
        "operator",
        CL_OPERATOR,
    )


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


async def _draft_awaits(handle: Any) -> bool:
    from workflows.consultation import Consultation

    status = await handle.query(Consultation.status)
    return status.agreement_approval is not None


async def test_a_concluded_agreement_schedules_review_rounds(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:
    from tests.helpers import APPROVERS, decide, drafting, submit, two_approver_declaration

    declaration = two_approver_declaration(await dev_env.get_current_time()).model_copy(
        update={"review_every_months": 6}
    )
    client = dev_env.client
    async with running_worker(client, outbox) as task_queue:
        handle = await drafting(dev_env, declaration, task_queue)
        sha = await submit(handle, "# Agreement\n", "# Acuerdo\n")
        await eventually(lambda: _draft_awaits(handle))
        for approver in APPROVERS:
            await decide(handle, approver, sha)
        result = await handle.result()
        consult = Consult(client, task_queue)
        listed = await consult.json("list")
        schedule = next(r for r in listed if r.get("kind") == "review_schedule" and r["consultation"] == declaration.id)

        # Its first action opens a review round on the agreement's pillars.
        await client.get_schedule_handle(schedule["id"]).trigger()

        async def review_started() -> list[Any] | None:
            found = [w async for w in client.list_workflows(f"TemporalScheduledById = '{schedule['id']}'")]
            return found or None

        (review,) = await eventually(review_started)
        await eventually(lambda: len(notices_of(outbox, declaration.id, "input_request")) >= 4)
        await client.get_schedule_handle(schedule["id"]).delete()

    assert result.review_schedule == schedule["id"] == f"review-{declaration.id}"
    assert schedule["every_days"] == 183
    assert review.workflow_type == "Review"
    requests = notices_of(outbox, declaration.id, "input_request")
    assert len(requests) == 4  # two technical leads: round 1, then the review round

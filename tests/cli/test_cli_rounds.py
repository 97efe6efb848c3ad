"""The `consult` CLI for what comes after the start: rounds, inputs, minutes, drafts, the dossier and reviews."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import dossier
from tests.helpers import (
    APPROVERS,
    CL_OPERATOR,
    US_OPERATOR,
    decide,
    drafting,
    eventually,
    notices_of,
    running_worker,
    submit,
    two_approver_declaration,
)
from tests.helpers.cli import EXAMPLES, Consult, started_with_round
from workflows.consultation import Consultation


async def test_an_operator_runs_a_round_from_the_cli(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    now = await dev_env.get_current_time()
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
        cid = await started_with_round(consult, tmp_path, now)

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


async def test_the_dossier_of_a_concluded_consultation(
    dev_env: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
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

    assert too_soon.exit_code == 1 and "no agreement draft awaits approval" in too_soon.stderr
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


async def test_a_concluded_agreement_schedules_review_rounds(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:

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


async def _round_in(consult: Consult, cid: str, state: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("round", "status", cid)
    return status if status["state"] == state else None


async def _consultation_round_closed(consult: Consult, cid: str) -> dict[str, Any] | None:
    status: dict[str, Any] = await consult.json("status", cid)
    return status if status["rounds"][0]["state"] == "closed" else None


async def _draft_awaits(handle: Any) -> bool:
    status = await handle.query(Consultation.status)
    return status.agreement_approval is not None

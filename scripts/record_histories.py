"""Record the histories the replay tests check (tests/histories/).

Runs a whole lifecycle on the time-skipping server with the current code —
declaration, reminders, an extension, round 1 with inputs, changes requested,
re-issued minutes, approval, drafting, a draft sent back, a second draft
approved by all, conclusion — and saves the consultation's and the round's
event histories as JSON, and the delivery of its first notice
(tests/histories/withdrawn/ keeps an earlier recording that ends in a withdrawal;
tests/histories/notices-beside/ one made since notices are delivered beside the
lifecycle, patch `notices-beside-lifecycle`; tests/histories/issue-11/ one made since
issue 11's quieter history, patch `quiet-history`; tests/histories/issue-13/ one with files: inputs
with attachments, a resubmission keeping one, re-issued minutes and drafts with annexes;
tests/histories/issue-11-notices/ one since a delivery sends in one activity and the consultation sends
its own notices, patches `one-activity-per-run` and `notices-in-the-workflow`;
tests/histories/issue-11-round-notices/ one since a round sends its own notices too, patch
`round-notices-in-the-workflow`).
Record a new set (`make histories`) when a change is meant to be incompatible and is guarded by
`workflow.patched`, or takes workflows down a new path (issue-13's files), into a new folder
beside the old ones, so every version keeps replaying:
`python scripts/record_histories.py DIR` (`make histories DIR=...`). It refuses to
write over a history that is already there: checked-in histories are never re-recorded.

It stands on the project's own code: the example declaration, `operations.start`,
the worker every process builds. It imports nothing from tests/.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from consult import binaries  # noqa: E402
from consult.outbox import Outbox  # noqa: E402
from infra.files import record_file  # noqa: E402
from infra.local import free_port, register_search_attributes  # noqa: E402
from infra.settings import Settings, SmtpSettings  # noqa: E402
from infra.temporal import data_converter  # noqa: E402
from operations.consultations import start  # noqa: E402
from schemas.annexes import FileRecord  # noqa: E402
from schemas.approvals import Decision, DecisionRequest  # noqa: E402
from schemas.consultation import (  # noqa: E402
    ExtendDeadlineRequest,
    OpenRoundRequest,
    StartDraftingRequest,
    SubmitDraftRequest,
)
from schemas.declaration import ApprovalRule, Declaration, Locale, Pillar, Role  # noqa: E402
from schemas.pillar_inputs import PILLAR_INPUT  # noqa: E402
from schemas.rounds import ReissueMinutesRequest, RoundState, SubmitInputRequest  # noqa: E402
from workers.main import build_worker  # noqa: E402
from workflows.consultation import Consultation  # noqa: E402
from workflows.technical_round import TechnicalRound, round_workflow_id  # noqa: E402

DAY = timedelta(days=1)
HISTORIES = ROOT / "tests" / "histories"
EXAMPLE = ROOT / "examples" / "chile-us-2026.yaml"
TASK_QUEUE = "record-histories"


def example_declaration(signed_at: datetime) -> Declaration:
    """The founding example, signed on the test server's clock, under the id the replay tests know."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return Declaration.model_validate({**data, "id": "replay-concluded", "signed_at": signed_at.isoformat()})


def approvers_to_approve(declaration: Declaration) -> list[str]:
    """Enough approvers for every party to approve: its first one under `any`, all of them under `all`."""
    chosen: list[str] = []
    for party in declaration.parties:
        people = [c.email for c in party.with_role(Role.APPROVER)]
        chosen += people if party.approval is ApprovalRule.ALL else people[:1]
    return chosen


async def record(out: Path) -> None:
    # Files are stored as the CLI and the gateway store them; the workflows record only their references.
    converter = data_converter(Settings(storage_dir=Path(tempfile.mkdtemp())))

    async def attached(name: str, by: str) -> FileRecord:
        text = f"file,by\n{name},{by}\n" if name.endswith(".csv") else f"%PDF-1.7\n% {name}\n%%EOF\n"
        data = text.encode()
        return await record_file(converter, name, data, attached_by=by, attached_at=await env.get_current_time())

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binaries.time_skipping_test_server(), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    outbox = Outbox(Path(tempfile.mkdtemp()), port=free_port()).start()
    try:
        signed = await env.get_current_time()
        declaration = example_declaration(signed)
        operator = declaration.operators[0].email
        approvers = approvers_to_approve(declaration)
        first_approver, second_approver = approvers[0], approvers[-1]
        leads = {p.code: p.with_role(Role.TECHNICAL_LEAD)[0].email for p in declaration.parties}
        smtp = SmtpSettings(host=outbox.host, port=outbox.port)
        async with build_worker(env.client, TASK_QUEUE, smtp):
            handle = await start(env.client, declaration, TASK_QUEUE)
            await env.sleep(9 * DAY)
            await handle.execute_update(
                Consultation.extend_deadline,
                ExtendDeadlineRequest(until=signed + 20 * DAY, reason="agendas", requested_by=operator),
            )
            await env.sleep(2 * DAY)
            now = await env.get_current_time()
            await handle.execute_update(
                Consultation.open_round,
                OpenRoundRequest(
                    meeting_at=now + 6 * DAY,
                    inputs_due=now + 4 * DAY,
                    pillars=[Pillar.FINANCING],
                    requested_by=operator,
                ),
            )
            round_ = env.client.get_workflow_handle_for(TechnicalRound.run, round_workflow_id(handle.id, 1))
            await _until(lambda: _exists(round_))
            for n, (party, author) in enumerate(leads.items()):
                paper = await attached(f"{party}-position.pdf", author)
                item = PILLAR_INPUT.validate_python(
                    {"party": party, "pillar": "financing", "author": author, "summary": "s", "attachments": [paper]}
                )
                await round_.execute_update(
                    TechnicalRound.submit_input, SubmitInputRequest(input=item, submitted_by=operator)
                )
                if n == 0:  # the first party revises its input: keeps the paper, adds a project list
                    projects = await attached("projects.csv", author)
                    revised = item.model_copy(update={"summary": "s, revised", "attachments": [projects]})
                    await round_.execute_update(
                        TechnicalRound.submit_input,
                        SubmitInputRequest(input=revised, submitted_by=operator, keep=[paper.sha256]),
                    )
            await _until(lambda: _state(round_, RoundState.MINUTES_APPROVAL))
            sha = (await round_.query(TechnicalRound.status)).minutes[-1].sha256
            await round_.execute_update(
                TechnicalRound.decide,
                DecisionRequest(
                    approver=first_approver,
                    decision=Decision.REQUEST_CHANGES,
                    sha256=sha,
                    comment="more detail",
                    recorded_by=operator,
                ),
            )
            await _until(lambda: _state(round_, RoundState.CHANGES_REQUESTED))
            await round_.execute_update(
                TechnicalRound.reissue_minutes,
                ReissueMinutesRequest(
                    documents={Locale.EN: "# Minutes\n", Locale.ES: "# Acta\n"},
                    requested_by=operator,
                    annexes=[await attached("study.pdf", operator)],
                ),
            )
            await _until(lambda: _state(round_, RoundState.MINUTES_APPROVAL))
            sha = (await round_.query(TechnicalRound.status)).minutes[-1].sha256
            for approver in approvers:
                await round_.execute_update(
                    TechnicalRound.decide,
                    DecisionRequest(approver=approver, decision=Decision.APPROVE, sha256=sha, recorded_by=operator),
                )
            await round_.result()
            await _until(lambda: _round_closed(handle))
            await handle.execute_update(Consultation.start_drafting, StartDraftingRequest(requested_by=operator))
            await env.sleep(DAY)
            v1 = await handle.execute_update(
                Consultation.submit_draft,
                SubmitDraftRequest(
                    documents={Locale.EN: "# Agreement\n", Locale.ES: "# Acuerdo\n"},
                    requested_by=operator,
                    annexes=[await attached("annex-1.pdf", operator)],
                ),
            )
            await _until(lambda: _agreement_open(handle, 1))
            await handle.execute_update(
                Consultation.decide,
                DecisionRequest(
                    approver=second_approver,
                    decision=Decision.REQUEST_CHANGES,
                    sha256=v1.sha256,
                    comment="add a review clause",
                    recorded_by=operator,
                ),
            )
            await _until(lambda: _stage(handle, "drafting_agreement"))
            v2 = await handle.execute_update(
                Consultation.submit_draft,
                SubmitDraftRequest(
                    documents={Locale.EN: "# Agreement\n\nReview.\n"},
                    requested_by=operator,
                    annexes=[await attached("annex-1.pdf", operator), await attached("annex-2.csv", operator)],
                ),
            )
            await _until(lambda: _agreement_open(handle, 2))
            for approver in approvers:
                await handle.execute_update(
                    Consultation.decide,
                    DecisionRequest(
                        approver=approver, decision=Decision.APPROVE, sha256=v2.sha256, recorded_by=operator
                    ),
                )
            await handle.result()
        # And two notices' deliveries (workflows started since NoticeDelivery existed have them): the
        # opening notice, and the first notice with a document (the minutes to approve), whose messages
        # name their documents by reference since patch `documents-by-reference`.
        first = (await handle.result()).notices[0]
        with_document = next(n for n in (await round_.result()).notices if n.kind == "approval_request")
        deliveries = [
            env.client.get_workflow_handle(n.delivery_workflow_id)
            for n in (first, with_document)
            if n.delivery_workflow_id
        ]
        for delivery in deliveries:
            await delivery.result()  # a whole delivery, not one caught mid-send
        for h in (handle, round_, *deliveries):
            # Named by workflow id: a replay must run under the id it was recorded with.
            history = await h.fetch_history()
            path = out / f"{h.id}.json"
            if path.exists():
                raise SystemExit(f"{path} exists: record into a new folder, never over a checked-in history")
            path.write_text(history.to_json())
            print(f"{path}: {len(history.events)} events")  # noqa: T201
    finally:
        outbox.stop()
        await env.shutdown()


async def _until(check, limit_seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the lifecycle did not progress")
        await asyncio.sleep(0.05)


async def _exists(handle) -> bool:  # type: ignore[no-untyped-def]
    try:
        await handle.query(TechnicalRound.status)
        return True
    except Exception:
        return False


async def _state(handle, state: RoundState) -> bool:  # type: ignore[no-untyped-def]
    return (await handle.query(TechnicalRound.status)).state is state


async def _agreement_open(handle, version: int) -> bool:  # type: ignore[no-untyped-def]
    approval = (await handle.query(Consultation.status)).agreement_approval
    return approval is not None and approval.version == version


async def _stage(handle, stage: str) -> bool:  # type: ignore[no-untyped-def]
    return bool((await handle.query(Consultation.status)).stage.value == stage)


async def _round_closed(handle) -> bool:  # type: ignore[no-untyped-def]
    status = await handle.query(Consultation.status)
    return bool(status.rounds) and status.rounds[0].state is RoundState.CLOSED


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(f"usage: {sys.argv[0]} DIR  (a new folder, e.g. {HISTORIES.relative_to(ROOT)}/<change>)\n")
        sys.stderr.flush()
        os._exit(2)

    target = Path(sys.argv[1])
    if any(target.glob("*.json")):
        sys.stderr.write(f"{target} already holds histories: record into a new folder, never over checked-in ones\n")
        sys.stderr.flush()
        os._exit(2)
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(target))
    sys.stdout.flush()
    os._exit(0)  # see TEMPORAL-NOTES: interpreter exit after the test server can crash

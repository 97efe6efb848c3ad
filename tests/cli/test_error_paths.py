"""An action is sent straight to its workflow; when that workflow is missing or has ended, what the operator
reads is worked out afterwards, and says it as before: no such consultation, nothing more can be recorded,
a round that is opening or closed. A finished consultation is read with no worker at all."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from typer.testing import Result

from consult.outbox import Outbox
from operations import consultations as operations
from schemas.consultation import OpenRoundRequest, WithdrawRequest
from schemas.declaration import Declaration
from tests.helpers import AGENDA, CL_OPERATOR, DAY, declaration_data, running_worker
from tests.helpers.cli import Consult


def _refused(result: Result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert words in result.stderr, result.stderr


async def test_actions_on_a_missing_or_ended_consultation_are_said_and_an_ended_one_reads_without_a_worker(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = Declaration.model_validate(declaration_data(now - timedelta(minutes=1)))
    cid, signed = declaration.id, declaration.signed_at
    async with running_worker(client, outbox) as task_queue:
        consult = Consult(client, task_queue)
        closing = ("round", "close", cid, "--reason", "Early", "--by", CL_OPERATOR)
        handle = await operations.start(client, declaration, task_queue)
        _refused(await consult(*closing), f"consultation {cid} has no rounds yet; open one with `consult round open`")
        opening = OpenRoundRequest(
            meeting_at=signed + 10 * DAY, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR
        )
        await operations.open_round(client, cid, opening)
        await operations.withdraw(client, cid, WithdrawRequest(reason="Superseded", requested_by=CL_OPERATOR))
        await handle.result()
    # No worker from here on.
    consult = Consult(client, "no-worker-here")
    nothing_more = "refused: the consultation is withdrawn; nothing more can be recorded"

    status = await consult.json("status", cid)
    extended = await consult(
        "extend", cid, "--until", (now + 40 * DAY).isoformat(), "--reason", "r", "--by", CL_OPERATOR
    )
    closed = await consult(*closing)
    round_read = await consult("round", "status", cid)
    missing = await consult("withdraw", "no-such-consultation", "--reason", "r", "--by", CL_OPERATOR)
    missing_round = await consult("round", "close", "no-such-consultation", "--reason", "r", "--by", CL_OPERATOR)

    assert status["stage"] == "withdrawn" and status["withdrawal"]["reason"] == "Superseded"
    _refused(extended, nothing_more)
    _refused(closed, nothing_more)
    # The round went with its consultation (terminated): said, not a traceback.
    _refused(round_read, "round 1 is terminated; it has no current status")
    _refused(missing, "there is no consultation no-such-consultation (consultation-no-such-consultation)")
    _refused(missing_round, "there is no consultation no-such-consultation")

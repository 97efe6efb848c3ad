"""A consultation sends its own notices (one activity, no delivery workflow), and hands them over when SMTP is down.

On the time-skipping server with the real worker and real SMTP (aiosmtpd):
- the opening notice goes out from the consultation's own `send_messages` activity: no NoticeDelivery
  workflow is started, every recipient gets one message, and the record says delivered;
- with SMTP down past `HERE_FOR`, the people it had not reached are handed to a NoticeDelivery that
  goes on retrying; `status` says why the notice waits meanwhile; once SMTP is back everyone gets
  exactly one message and the record is settled from the delivery;
- the notices a workflow is sending are read from one describe of it, however many are pending;
- a round does the same (patch round-notices-in-the-workflow), and does not end while its last notice
  (the approved minutes) is neither through nor handed over.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
)
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from infra.local import free_port
from operations import consultations as operations
from operations.consultations import start
from schemas.consultation import OpenRoundRequest
from schemas.notices import NoticeRecord, NoticeState
from schemas.rounds import RoundState
from tests.helpers import (
    AGENDA,
    APPROVERS,
    CL_OPERATOR,
    DAY,
    eventually,
    everyone,
    mail_of,
    make_declaration,
    open_round,
    received,
    running_worker,
    submit_all,
    two_approver_declaration,
)
from workflows.notifier import HERE_FOR

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def opening_notice(client: Client, consultation_id: str) -> NoticeRecord:
    """The opening notice's record, as `consult status` shows it."""
    return (await operations.status(client, consultation_id)).notices[0]


def addressees(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(m["To"].addresses[0].addr_spec for m in messages)


async def test_the_opening_notice_goes_out_from_the_consultations_own_activity(
    time_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = time_env.client
    declaration = make_declaration(await time_env.get_current_time())
    async with running_worker(client, outbox) as task_queue:
        handle = await start(client, declaration, task_queue)

        async def opened() -> bool:
            return (await opening_notice(client, declaration.id)).state is NoticeState.DELIVERED

        await eventually(opened, timeout=20)
        record = await opening_notice(client, declaration.id)
        history = await handle.fetch_history()
    assert record.delivery_workflow_id is None and record.activity_id
    assert sorted(record.delivered) == sorted(everyone(declaration))
    assert addressees(mail_of(outbox, declaration.id)) == Counter(record.delivered)
    kinds = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED not in kinds
    assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1


async def test_with_smtp_down_past_here_for_the_notice_is_handed_to_a_delivery_and_sent_once(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = time_env.client
    outbox = Outbox(tmp_path / "outbox", port=free_port())  # not started: connections are refused
    declaration = make_declaration(await time_env.get_current_time())
    try:
        async with running_worker(client, outbox) as task_queue:
            await start(client, declaration, task_queue)

            async def waiting_for_smtp() -> str | None:
                """The reason the status gives once the first attempt has failed ("sending" before that)."""
                record = await opening_notice(client, declaration.id)
                assert record.state is NoticeState.PENDING
                reason = record.pending_reason or ""
                return reason if "retrying" in reason else None

            reason = await eventually(waiting_for_smtp, timeout=20)
            assert "Connect call failed" in reason or "connecting" in reason, reason

            async def handed_over() -> str | None:
                return (await opening_notice(client, declaration.id)).delivery_workflow_id

            assert not await handed_over()
            await time_env.sleep(HERE_FOR + timedelta(seconds=10))  # the server's clock, not ours
            delivery = await eventually(handed_over, timeout=30)
            still = await opening_notice(client, declaration.id)
            assert still.state is NoticeState.PENDING and still.pending_reason

            outbox.start()

            async def delivered() -> bool:
                return (await opening_notice(client, declaration.id)).state is NoticeState.DELIVERED

            await eventually(delivered, timeout=60)
            record = await opening_notice(client, declaration.id)
    finally:
        outbox.stop()
    assert delivery and record.delivery_workflow_id == delivery
    assert addressees(mail_of(outbox, declaration.id)) == Counter(everyone(declaration))
    assert sorted(record.delivered) == sorted(everyone(declaration))


class _Describes(Interceptor):
    """Counts the describes a client sends, by workflow id."""

    def __init__(self) -> None:
        self.of: Counter[str] = Counter()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _CountingDescribes(next, self.of)


class _CountingDescribes(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, of: Counter[str]) -> None:
        super().__init__(next)
        self._of = of

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        self._of[input.id] += 1
        return await super().describe_workflow(input)


async def test_the_notices_a_workflow_is_sending_are_read_from_one_describe_of_it(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """With SMTP down, the opening notice and the round's announcement both wait in the consultation's own
    activities: `status` says why each waits, from one describe of the consultation, not one per notice."""
    outbox = Outbox(tmp_path / "outbox", port=free_port())  # not started: connections are refused
    declaration = make_declaration(await time_env.get_current_time())
    describes = _Describes()
    config = time_env.client.config()
    config["interceptors"] = [describes]
    client = Client(**config)
    signed = declaration.signed_at
    request = OpenRoundRequest(
        meeting_at=signed + 10 * DAY, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR
    )
    async with running_worker(time_env.client, outbox) as task_queue:
        handle = await start(time_env.client, declaration, task_queue)
        await operations.open_round(time_env.client, declaration.id, request)

        async def both_retrying() -> list[NoticeRecord] | None:
            found = (await operations.status(time_env.client, declaration.id)).notices
            retrying = [n for n in found if "retrying" in (n.pending_reason or "")]
            return retrying if len(retrying) == 2 else None

        await eventually(both_retrying, timeout=20)
        current = await operations.status(client, declaration.id)
    assert [n.kind for n in current.notices] == ["opened", "round_scheduled"]
    assert all(n.state is NoticeState.PENDING and "retrying" in (n.pending_reason or "") for n in current.notices)
    assert describes.of[handle.id] == 1, describes.of


async def test_a_round_sends_its_own_notices_and_does_not_end_before_its_last_one_is_through_or_handed_over(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The notice of approved minutes is the round's last: with SMTP down the round waits `HERE_FOR`, hands
    whoever it has not reached to a delivery, then ends; once SMTP is back everyone gets it exactly once."""
    client = time_env.client
    outbox = Outbox(tmp_path / "outbox", port=free_port()).start()
    declaration = two_approver_declaration(await time_env.get_current_time())
    try:
        async with running_worker(client, outbox) as task_queue:
            round_ = await open_round(time_env, declaration, task_queue)
            await submit_all(round_)
            await round_.in_state(RoundState.MINUTES_APPROVAL)
            await received(outbox, declaration.id, "approval_request", len(APPROVERS))
            for approver in APPROVERS[:-1]:
                await round_.decide(approver)
            outbox.stop()
            await round_.decide(APPROVERS[-1])

            async def approved_notice() -> NoticeRecord | None:
                return next((n for n in (await round_.status()).notices if n.kind == "approved"), None)

            sending = await eventually(approved_notice, timeout=20)
            assert sending.activity_id and sending.state is NoticeState.PENDING
            assert (await round_.handle.describe()).status == WorkflowExecutionStatus.RUNNING
            await time_env.sleep(HERE_FOR + timedelta(seconds=10))
            final = await round_.handle.result()
            outbox.start()
            mail = await received(outbox, declaration.id, "approved", len(everyone(declaration)))
            round_history = await round_.handle.fetch_history()
    finally:
        outbox.stop()
    [handed_over] = [n for n in final.notices if n.kind == "approved"]
    assert handed_over.delivery_workflow_id  # the rest went to a delivery that outlived the round
    # Every earlier notice of the round went out from its own activity, none through a delivery workflow.
    assert all(n.activity_id and n.state is NoticeState.DELIVERED for n in final.notices if n.kind != "approved")
    kinds = [e.event_type for e in round_history.events]
    assert kinds.count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) == 1
    assert addressees(mail) == Counter(everyone(declaration))

"""Delivering one notice, beside the lifecycle that issued it.

The consultation or round records the notice and starts this workflow as an
abandoned child (it outlives its parent: a withdrawal's notice still goes out
after the consultation has ended), then goes on at once. Here a run's
recipients go out in one `send_messages` activity that heartbeats each message
the SMTP server accepted: a crash or an SMTP outage is retried by Temporal, and
the retry skips whoever the last heartbeat settled, so nobody gets a message
twice but one accepted in the instant before a crash. (Deliveries recorded
before patch `one-activity-per-run` ran one `send_message` activity per
recipient, and replay that way.) A very long recipient list continues as new
every `RECIPIENTS_PER_RUN` recipients, so no run's history grows without bound.

Result: DeliveryOutcome (who was refused or could not be sent to, and why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, TimeoutError

from activities.email import Mailer
from schemas.notices import (
    BatchProgress,
    BatchRequest,
    DeliveryInput,
    DeliveryOutcome,
    DocumentsAt,
    MessageRequest,
    Notice,
    Recipient,
)

# Messages in flight at once, per notice: enough to keep SMTP busy, few enough that an
# outage holds a handful of retrying activities rather than one per recipient.
CONCURRENCY = 8
RECIPIENTS_PER_RUN = 250
# One message; a worker that dies mid-send is noticed (and the message retried) after this.
MESSAGE_TIMEOUT = timedelta(seconds=30)
# Retries come quickly once SMTP is back: never more than 10 s apart.
MESSAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=10)
)
# Below this, a message is not worth attempting before the notice gives up.
_LAST_CHANCE = timedelta(seconds=1)


# Messages carry no documents; the mail activity reads them from this run's input (see DocumentsAt).
# Deliveries recorded before this sent each reader's documents in every message: they replay that way.
DOCUMENTS_BY_REFERENCE = "documents-by-reference"
# A run's recipients go out in one `send_messages` activity, with who is settled in its heartbeats, instead of
# one `send_message` activity each (issue 11: eight activities a notice were most of the server's work).
# Deliveries recorded before replay their per-message activities.
ONE_ACTIVITY_PER_RUN = "one-activity-per-run"
# A batch's liveness: a worker that dies mid-batch is noticed this soon. It heartbeats every 2 s at least, but
# an overloaded worker's event loop can fall seconds behind, and a batch timed out while it is still sending
# would be sent again by the next attempt: as long as one message's timeout before (per-message activities).
BATCH_HEARTBEAT_TIMEOUT = timedelta(seconds=30)


def delivery_workflow_id(issuer_workflow_id: str, sequence: int, kind: str) -> str:
    """Unique per issuing workflow (a consultation, a round, a review's round) and notice."""
    return f"{issuer_workflow_id}-notice-{sequence:03d}-{kind}"


def _reason(failure: BaseException) -> str:
    """The innermost cause: the SMTP error behind a retry timeout, not "activity timed out"."""
    while failure.__cause__ is not None:
        failure = failure.__cause__
    return str(failure) or type(failure).__name__


@workflow.defn
class NoticeDelivery:
    """One notice to its recipients. No queries, signals or updates: a client reads where it stands
    from its pending activities (the SMTP error being retried) and its result."""

    @workflow.run
    async def run(self, input: DeliveryInput) -> DeliveryOutcome:
        notice = input.notice
        refused, failed = dict(input.refused), dict(input.failed)
        now_due, later = notice.recipients[:RECIPIENTS_PER_RUN], notice.recipients[RECIPIENTS_PER_RUN:]
        slots = asyncio.Semaphore(CONCURRENCY)
        last_error: list[str] = []
        by_reference = bool(notice.documents or notice.previous_documents) and workflow.patched(DOCUMENTS_BY_REFERENCE)
        info = workflow.info()
        documents_at = DocumentsAt(workflow_id=info.workflow_id, run_id=info.run_id) if by_reference else None

        def request_for(recipient: Recipient) -> MessageRequest:
            reader: Notice = notice.for_reader(recipient)
            if documents_at is not None:
                return MessageRequest(notice=reader.without_documents(), recipient=recipient, documents_at=documents_at)
            return MessageRequest(notice=reader, recipient=recipient)

        async def deliver(recipient: Recipient) -> None:
            async with slots:
                left = input.give_up_at - workflow.now()
                if left < _LAST_CHANCE:
                    failed[recipient.email] = f"not sent within a day: {last_error[-1] if last_error else 'timed out'}"
                    return
                try:
                    outcome = await workflow.execute_activity_method(
                        Mailer.send_message,
                        request_for(recipient),
                        start_to_close_timeout=MESSAGE_TIMEOUT,
                        schedule_to_close_timeout=left,
                        retry_policy=MESSAGE_RETRY,
                    )
                except ActivityError as error:
                    last_error.append(_reason(error))
                    failed[recipient.email] = last_error[-1]
                    return
                if outcome.refused is not None:
                    refused[recipient.email] = outcome.refused

        if workflow.patched(ONE_ACTIVITY_PER_RUN):
            sent = await send_batch(notice, now_due, input.give_up_at, documents_at)
            outcome = sent.given_up("not sent within a day: " if sent.timed_out else "")
            refused.update(outcome.refused)
            failed.update(outcome.failed)
        else:
            await asyncio.gather(*(deliver(r) for r in now_due))
        if later:
            workflow.continue_as_new(
                DeliveryInput(
                    notice=notice.model_copy(update={"recipients": later}),
                    give_up_at=input.give_up_at,
                    refused=refused,
                    failed=failed,
                )
            )
        return DeliveryOutcome(refused=refused, failed=failed)


@dataclass
class BatchResult:
    """How a `send_messages` activity ended: the outcome of whoever it settled, and who it had not reached
    when it gave up (then `why`, and whether it ran out of time rather than failed for good)."""

    outcome: DeliveryOutcome
    left: list[Recipient] = field(default_factory=list)
    why: str = ""
    timed_out: bool = False

    @classmethod
    def of_failure(cls, error: ActivityError, recipients: list[Recipient]) -> BatchResult:
        """Where a batch of `recipients` stood when its activity failed for good, from the failure alone."""
        progress = _progress_of(error)
        settled = set(progress.settled)
        return cls(
            DeliveryOutcome(refused=progress.refused, failed=progress.failed),
            [r for i, r in enumerate(recipients) if i not in settled],
            _reason(error),
            # Out of time: the attempt timed out, or the next retry would have come after the deadline.
            timed_out=isinstance(error.cause, TimeoutError) or error.retry_state == RetryState.TIMEOUT,
        )

    def given_up(self, preface: str = "") -> DeliveryOutcome:
        """The outcome with whoever was not reached recorded as failed, and why (after `preface`)."""
        why = preface + self.why
        return self.outcome.model_copy(update={"failed": {**self.outcome.failed, **{r.email: why for r in self.left}}})


async def send_batch(
    notice: Notice,
    recipients: list[Recipient],
    give_up_at: datetime,
    documents_at: DocumentsAt | None = None,
    activity_id: str | None = None,
) -> BatchResult:
    """`recipients` of `notice` in one activity, retried until `give_up_at`."""
    left = give_up_at - workflow.now()
    if left < _LAST_CHANCE:
        return BatchResult(DeliveryOutcome(), recipients, "timed out", timed_out=True)
    batch = notice.model_copy(update={"recipients": recipients})
    if documents_at is not None:
        batch = batch.without_documents()
    try:
        outcome = await workflow.execute_activity_method(
            Mailer.send_messages,
            BatchRequest(notice=batch, documents_at=documents_at),
            activity_id=activity_id,
            schedule_to_close_timeout=left,
            heartbeat_timeout=BATCH_HEARTBEAT_TIMEOUT,
            retry_policy=MESSAGE_RETRY,
            summary=f"Email '{notice.kind.value}' to {len(recipients)} recipient(s)",
        )
        return BatchResult(outcome)
    except ActivityError as error:
        return BatchResult.of_failure(error, recipients)


def _progress_of(error: ActivityError) -> BatchProgress:
    """Who the batch had settled when it gave up: the last heartbeat's details, which a timeout carries, and
    which `send_messages` puts on the failure of an attempt (retries run out before it succeeded)."""
    cause = error.cause
    details: Sequence[Any] = ()
    if isinstance(cause, TimeoutError):
        details = cause.last_heartbeat_details
    elif isinstance(cause, ApplicationError):
        details = cause.details
    if not details:
        return BatchProgress()
    return BatchProgress.model_validate(details[0])

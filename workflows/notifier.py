"""Sending notices from inside a workflow, and keeping the record of each one.

Shared by the consultation and its rounds. Notice ids are `<prefix>.<n>.<kind>`:
deterministic (the n-th notice of that workflow), so replays and activity
retries produce the same Message-IDs.

A notice never blocks the lifecycle: `send` records it as pending, starts its
delivery and returns; a background task settles the record when the delivery
ends (which may be a day later if SMTP is down). The delivery is the workflow's
own `send_messages` activity (see IN_THE_WORKFLOW), or a `NoticeDelivery` child
workflow for the notices that outlive it and for workflows recorded before.
Workflows that started before this awaited one `send_notice` activity per
notice; their histories take that path still (patch `notices-beside-lifecycle`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from activities.email import Mailer
from infra.formatting import display_tz, offset_minutes
from schemas.declaration import Declaration, Role
from schemas.documents import document_sha256
from schemas.notices import (
    MEETING_KINDS,
    Attendee,
    DeliveryInput,
    DeliveryOutcome,
    DocumentSource,
    Notice,
    NoticeFacts,
    NoticeKind,
    NoticeRecord,
    NoticeState,
    Recipient,
)
from workflows.delivery import RECIPIENTS_PER_RUN, NoticeDelivery, delivery_workflow_id, send_batch

BESIDE_THE_LIFECYCLE = "notices-beside-lifecycle"
# Issue 11's quieter history, one patch for all of it (each patch id costs every run two events, a marker and
# an upsert of TemporalChangeVersion). Since it, in the consultation and its rounds:
# - a notice names its document (a version of this workflow's minutes or drafts, by SHA-256) instead of
#   carrying its text; the mail activity reads the text back from this workflow's history (infra/recorded.py);
# - the consultation upserts its search attributes only when one changes, and ends without waiting for its
#   last notices (a reader's status settles them from their deliveries: operations/notices.py);
# - a round signals its consultation only on significant progress, not to echo its opening, and returns its
#   minutes without their text (it is in the round's history, where it was written).
# Workflows recorded before take the earlier paths when replayed.
QUIET_HISTORY = "quiet-history"

# Issue 11: a notice to at most `RECIPIENTS_PER_RUN` people that its workflow will outlive (not the
# consultation's last) is sent by a `send_messages` activity of the issuing workflow itself, not by a
# NoticeDelivery child: one activity instead of a whole workflow (two starts, four workflow tasks, its own
# visibility records) per notice. Should it not be through within `HERE_FOR` (SMTP down), whoever it has not
# reached is handed to a NoticeDelivery that retries for the rest of the day, so the workflow can end soon
# after. Only workflows built with `deliver_here`, and only since its patch (the consultation's is this one);
# earlier histories replay their children.
IN_THE_WORKFLOW = "notices-in-the-workflow"
# The same for a round, since this patch: its input requests, reminders, approval requests and the notice of
# its approved minutes (it waits for them before it ends, as the consultation does). A round its consultation
# ends (a withdrawal) is terminated with whatever it was still sending: the withdrawal's own notice tells
# everyone, and cancels the meeting.
ROUND_IN_THE_WORKFLOW = "round-notices-in-the-workflow"
HERE_FOR = timedelta(minutes=1)
# The consultation's last notices: it ends right after them, so they go beside it.
LAST_KINDS = frozenset({NoticeKind.CONCLUDED, NoticeKind.DECLINED, NoticeKind.WITHDRAWN})

MAIL_TIMEOUT = timedelta(minutes=2)
# SMTP outages are retried with backoff for up to a day; after that the notice (or, delivered
# beside the lifecycle, each recipient not reached) is recorded as failed.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))
MAIL_GIVE_UP_AFTER = timedelta(days=1)
# How long a workflow about to end waits for its notices still being delivered, so that its
# final record says how they went. They go on after it regardless (ABANDON); a longer wait
# would hold up whatever awaits the workflow's end (the consultation, for a round).
LAST_NOTICES_GRACE = timedelta(seconds=10)
# Since QUIET_HISTORY a consultation ends without that wait. A round still waits: its consultation goes on
# after it, and a delivery that outlives its round holds the time-skipping test server's clock.


class Notifier:
    def __init__(self, declaration: Declaration, prefix: str, *, deliver_here: str | None = None) -> None:
        """`deliver_here`: the patch since which this workflow sends its notices itself (see IN_THE_WORKFLOW)."""
        self._declaration = declaration
        self._prefix = prefix
        self._deliver_here = deliver_here
        # Notices this workflow is sending itself (record indexes); it does not end while there are any.
        self._here: set[int] = set()
        self.tz = display_tz(declaration.signed_at)
        self.records: list[NoticeRecord] = []
        # Background tasks awaiting each delivery's end (kept so they are not collected).
        self._deliveries: list[asyncio.Task[None]] = []

    # --- who -----------------------------------------------------------------------

    def operators(self) -> list[Recipient]:
        return [Recipient(name=o.name or o.email, email=o.email, locale=o.locale) for o in self._declaration.operators]

    def counterparts(self, role: Role | None = None, parties: list[str] | None = None) -> list[Recipient]:
        return [
            Recipient(name=c.name, email=c.email, locale=c.locale)
            for p in self._declaration.parties
            if parties is None or p.code in parties
            for c in p.counterparts
            if role is None or role in c.roles
        ]

    def everyone(self) -> list[Recipient]:
        return self.counterparts() + self.operators()

    def attendees(self) -> list[Attendee]:
        """Who a round meeting invites: every counterpart; technical leads are required, approvers optional."""
        return [
            Attendee(
                name=c.name,
                email=c.email,
                party=p.code,
                role="REQ-PARTICIPANT" if Role.TECHNICAL_LEAD in c.roles else "OPT-PARTICIPANT",
            )
            for p in self._declaration.parties
            for c in p.counterparts
        ]

    # --- send ----------------------------------------------------------------------

    async def send(self, kind: NoticeKind, recipients: list[Recipient], facts: NoticeFacts) -> NoticeRecord:
        d = self._declaration
        if facts.documents and facts.version and workflow.patched(QUIET_HISTORY):
            facts = facts.model_copy(
                update={
                    "documents": {},
                    "previous_documents": {},
                    "document_source": DocumentSource(
                        workflow_id=workflow.info().workflow_id,
                        version=facts.version,
                        sha256=document_sha256(facts.documents),
                        previous_sha256=document_sha256(facts.previous_documents) if facts.previous_documents else None,
                    ),
                }
            )
        notice = Notice.model_validate(
            {
                **dict(facts),
                "notice_id": f"{self._prefix}.{len(self.records) + 1:03d}.{kind.value}",
                "kind": kind,
                "consultation_id": d.id,
                "title": d.title,
                "issued_at": workflow.now(),
                "utc_offset_minutes": offset_minutes(self.tz),
                "recipients": recipients,
                "parties": [p.code for p in d.parties],
                "pillars": facts.pillars or list(d.pillars),
                # A meeting's invitation names its organiser (the first secretariat) and attendees.
                "organizer": facts.organizer
                or (next(iter(self.operators()), None) if kind in MEETING_KINDS and facts.meeting_at else None),
                "attendees": facts.attendees
                or (self.attendees() if kind in MEETING_KINDS and facts.meeting_at else []),
            }
        )
        record = NoticeRecord(
            notice_id=notice.notice_id,
            kind=kind.value,
            issued_at=notice.issued_at,
            recipients=[r.email for r in recipients],
            state=NoticeState.PENDING,
        )
        index = len(self.records)
        self.records.append(record)
        if workflow.patched(BESIDE_THE_LIFECYCLE):
            if not recipients:  # e.g. a reminder when everyone has already decided
                self.records[index] = record.settled(DeliveryOutcome())
            elif (
                self._deliver_here is not None
                and kind not in LAST_KINDS
                and len(recipients) <= RECIPIENTS_PER_RUN
                and workflow.patched(self._deliver_here)
            ):
                self._send_here(index, notice)
            else:
                await self._deliver_beside(index, notice)
            return self.records[index]
        return await self._send_and_wait(index, notice)

    async def wait_for_last_notices(self, *, or_end_at_once: bool = False) -> None:
        """Called just before the workflow ends: gives pending deliveries a moment to settle (not a consultation's,
        since QUIET_HISTORY).

        Adds nothing to history when nothing is pending (always so on the earlier path).
        """

        def settled() -> bool:
            return all(r.state is not NoticeState.PENDING for r in self.records)

        # Its own activities would end with it: each is through, or handed to a delivery, within HERE_FOR.
        if self._here:
            await workflow.wait_condition(lambda: not self._here)

        if settled() or (or_end_at_once and workflow.patched(QUIET_HISTORY)):
            return
        try:
            await workflow.wait_condition(
                settled, timeout=LAST_NOTICES_GRACE, timeout_summary="Last notices still being delivered"
            )
        except TimeoutError:
            workflow.logger.info("ending with notices still being delivered; they go on beside")

    def _send_here(self, index: int, notice: Notice) -> None:
        """Starts sending the notice from this workflow and returns at once (see IN_THE_WORKFLOW)."""
        activity_id = f"notice-{index + 1:03d}-{notice.kind.value}"
        self.records[index] = self.records[index].model_copy(
            update={"activity_id": activity_id, "activity_workflow_id": workflow.info().workflow_id}
        )
        self._here.add(index)
        self._deliveries.append(asyncio.create_task(self._here_then_beside(index, notice, activity_id)))

    async def _here_then_beside(self, index: int, notice: Notice, activity_id: str) -> None:
        try:
            sent = await send_batch(notice, notice.recipients, notice.issued_at + HERE_FOR, activity_id=activity_id)
            if not sent.left or not sent.timed_out:
                # Through, or failed for good (its document is gone): no later attempt would do better.
                self.records[index] = self.records[index].settled(sent.given_up())
            else:
                # Still retrying after HERE_FOR: who is left goes to a delivery that retries for the day.
                rest = notice.model_copy(update={"recipients": sent.left})
                await self._deliver_beside(index, rest, sent.outcome)
        finally:
            self._here.discard(index)

    async def _deliver_beside(self, index: int, notice: Notice, settled: DeliveryOutcome | None = None) -> None:
        """Starts the notice's delivery and returns once it has started, never waiting for SMTP.

        Awaiting the start (not the delivery) means the child exists before its parent can end.
        """
        record = self.records[index]
        workflow_id = delivery_workflow_id(workflow.info().workflow_id, index + 1, notice.kind.value)
        self.records[index] = record.model_copy(update={"delivery_workflow_id": workflow_id})
        # Who was settled before (a notice handed over by its workflow) is part of the delivery's outcome.
        earlier = settled or DeliveryOutcome()
        handle = await workflow.start_child_workflow(
            NoticeDelivery.run,
            DeliveryInput(
                notice=notice,
                give_up_at=notice.issued_at + MAIL_GIVE_UP_AFTER,
                refused=earlier.refused,
                failed=earlier.failed,
            ),
            id=workflow_id,
            # The notice goes out even if its consultation or round ends first (a withdrawal's does).
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Email '{notice.kind.value}' to {len(notice.recipients)} recipient(s)",
        )
        self._deliveries.append(asyncio.create_task(self._settle(index, handle)))

    async def _settle(self, index: int, handle: ChildWorkflowHandle[NoticeDelivery, DeliveryOutcome]) -> None:
        try:
            outcome = await handle
        except ChildWorkflowError as failure:
            workflow.logger.warning("notice %s could not be delivered", self.records[index].notice_id)
            self.records[index] = self.records[index].gave_up(str(failure.cause or failure))
            return
        self.records[index] = self.records[index].settled(outcome)

    async def _send_and_wait(self, index: int, notice: Notice) -> NoticeRecord:
        """The path of workflows started before notices were delivered beside the lifecycle."""
        record = self.records[index]
        kind = notice.kind
        recipients = notice.recipients
        try:
            report = await workflow.execute_activity_method(
                Mailer.send_notice,
                notice,
                start_to_close_timeout=MAIL_TIMEOUT,
                schedule_to_close_timeout=MAIL_GIVE_UP_AFTER,
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=MAIL_RETRY,
                summary=f"Email '{kind.value}' to {len(recipients)} recipient(s)",
            )
            record = record.model_copy(
                update={"state": NoticeState.DELIVERED, "delivered": report.delivered, "refused": report.refused}
            )
        except ActivityError as failure:
            workflow.logger.warning("notice %s could not be sent", notice.notice_id)
            record = record.gave_up(str(failure.cause or failure))
        self.records[index] = record
        return record

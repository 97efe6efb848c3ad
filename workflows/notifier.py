"""Sending notices from inside a workflow, and keeping the record of each one.

Shared by the consultation and its rounds. Notice ids are `<prefix>.<n>.<kind>`:
deterministic (the n-th notice of that workflow), so replays and activity
retries produce the same Message-IDs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from activities.email import Mailer
from infra.formatting import display_tz
from schemas.declaration import Declaration, Role
from schemas.notices import Notice, NoticeFacts, NoticeKind, NoticeRecord, Recipient

MAIL_TIMEOUT = timedelta(minutes=2)
# SMTP outages are retried with backoff for up to a day; after that the notice is
# recorded as failed and the workflow goes on rather than stalling its clock.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))
MAIL_GIVE_UP_AFTER = timedelta(days=1)


class Notifier:
    def __init__(self, declaration: Declaration, prefix: str) -> None:
        self._declaration = declaration
        self._prefix = prefix
        self.tz = display_tz(declaration.signed_at)
        self.records: list[NoticeRecord] = []

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

    # --- send ----------------------------------------------------------------------

    async def send(self, kind: NoticeKind, recipients: list[Recipient], facts: NoticeFacts) -> NoticeRecord:
        d = self._declaration
        notice = Notice.model_validate(
            {
                **dict(facts),
                "notice_id": f"{self._prefix}.{len(self.records) + 1:03d}.{kind.value}",
                "kind": kind,
                "consultation_id": d.id,
                "title": d.title,
                "issued_at": workflow.now(),
                "utc_offset_minutes": int((self.tz.utcoffset(None) or timedelta(0)).total_seconds() // 60),
                "recipients": recipients,
                "parties": [p.code for p in d.parties],
                "pillars": facts.pillars or list(d.pillars),
            }
        )
        record = NoticeRecord(
            notice_id=notice.notice_id,
            kind=kind.value,
            issued_at=notice.issued_at,
            recipients=[r.email for r in recipients],
        )
        index = len(self.records)
        self.records.append(record)
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
            record = record.model_copy(update={"delivered": report.delivered, "refused": report.refused})
        except ActivityError as failure:
            workflow.logger.warning("notice %s could not be sent", notice.notice_id)
            record = record.model_copy(update={"error": str(failure.cause or failure)})
        self.records[index] = record
        return record

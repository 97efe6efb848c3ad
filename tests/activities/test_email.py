"""The mail activity against real SMTP servers: what each recipient receives, and retries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from temporalio.testing import ActivityEnvironment

from activities.email import Mailer, render
from consult.outbox import Outbox
from infra.local import free_port
from infra.settings import SmtpSettings
from schemas.declaration import Locale, Pillar
from schemas.notices import DeliveryReport, Notice, NoticeKind, Recipient
from tests.helpers import body

SENDER = "Consultations <consultations@consult.example>"
ANA = Recipient(name="Ana Pérez", email="ana@minrel.example", locale=Locale.ES)
JOHN = Recipient(name="John Doe", email="john@state.example", locale=Locale.EN)


def notice(*people: Recipient, kind: NoticeKind = NoticeKind.OPENED) -> Notice:
    return Notice(
        notice_id="cl-us.001.opened",
        kind=kind,
        consultation_id="cl-us",
        title="Joint <Declaration> & Minerals",
        issued_at=datetime(2026, 11, 27, 13, 0, tzinfo=UTC),
        utc_offset_minutes=-180,
        recipients=list(people),
        parties=["CL", "US"],
        pillars=[Pillar.SUPPLY_CHAIN, Pillar.FINANCING],
        deadline=datetime(2026, 12, 12, 13, 0, tzinfo=UTC),
    )


def test_each_recipient_reads_their_own_language_in_text_and_html() -> None:
    spanish = render(notice(ANA), ANA, SENDER)
    english = render(notice(JOHN), JOHN, SENDER)
    assert spanish["Subject"] == "Consulta abierta: Joint <Declaration> & Minerals"
    assert spanish["Content-Language"] == "es" and english["Content-Language"] == "en"
    text = body(spanish, "plain")
    html = body(spanish, "html")
    # Dates are in the declaration's zone (UTC-3), written the reader's way.
    assert "12 de diciembre de 2026, 10:00 (UTC-03:00)" in text
    assert "December 12, 2026, 10:00 (UTC-03:00)" in body(english, "plain")
    assert "Estimado/a Ana Pérez:" in html and "Financiamiento" in html
    # The title is data, not markup.
    assert "Joint &lt;Declaration&gt; &amp; Minerals" in html and "<Declaration>" not in html


def test_message_id_is_stable_per_notice_and_recipient() -> None:
    first, again, other = (
        render(notice(ANA), ANA, SENDER),
        render(notice(ANA), ANA, SENDER),
        render(notice(JOHN), JOHN, SENDER),
    )
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].startswith("<cl-us.001.opened.") and first["Message-ID"].endswith("@consult.example>")


async def test_sends_one_message_per_recipient(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, port=free_port()).start()
    try:
        report = await ActivityEnvironment().run(
            Mailer(SmtpSettings(host=outbox.host, port=outbox.port, sender=SENDER)).send_notice, notice(ANA, JOHN)
        )
        received = outbox.messages()
    finally:
        outbox.stop()
    assert report.delivered == [ANA.email, JOHN.email]
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == sorted([ANA.email, JOHN.email])
    assert all(m.is_multipart() and m.get_body(("html",)) is not None for m in received)


async def test_a_retry_skips_recipients_already_sent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, port=free_port()).start()
    env = ActivityEnvironment()
    already = DeliveryReport(delivered=[ANA.email])
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[already.model_dump()])
    try:
        report = await env.run(Mailer(SmtpSettings(host=outbox.host, port=outbox.port)).send_notice, notice(ANA, JOHN))
        received = outbox.messages()
    finally:
        outbox.stop()
    assert report.delivered == [ANA.email, JOHN.email]
    assert [m["To"].addresses[0].addr_spec for m in received] == [JOHN.email]


class _RefuseBounces:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 OK"


async def test_a_refused_address_is_reported_and_does_not_stop_the_others() -> None:
    handler = _RefuseBounces()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    bounce = Recipient(name="Gone", email="bounce@state.example", locale=Locale.EN)
    try:
        report = await ActivityEnvironment().run(
            Mailer(SmtpSettings(host="127.0.0.1", port=port)).send_notice, notice(bounce, JOHN)
        )
    finally:
        controller.stop()
    assert report.delivered == [JOHN.email]
    assert "mailbox unavailable" in report.refused[bounce.email]
    assert [e.rcpt_tos for e in handler.received] == [[JOHN.email]]

"""The mail activities against real SMTP servers: what each recipient receives, refusals, retries, addresses."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import icalendar
import pytest
from aiosmtpd.controller import Controller
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.email import _WIRE, Mailer, render
from consult.outbox import Outbox
from infra.local import free_port
from infra.settings import SmtpSettings
from schemas.declaration import Locale, Pillar
from schemas.notices import (
    BatchProgress,
    BatchRequest,
    DeliveryOutcome,
    DeliveryReport,
    MessageOutcome,
    MessageRequest,
    Notice,
    NoticeKind,
    Recipient,
)
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


def test_a_message_is_written_the_same_however_many_were_written_before() -> None:
    """Headers are parsed and folded once per value for the whole process: a message must not pick up
    another's recipient, language or boundaries, nor be written differently from an uncached writer."""
    first = render(notice(ANA), ANA, SENDER).as_bytes(policy=_WIRE)
    for reader in (JOHN, ANA, JOHN):
        render(notice(reader), reader, SENDER).as_bytes(policy=_WIRE)
        render(notice(reader, kind=NoticeKind.APPROVED), reader, SENDER).as_bytes(policy=_WIRE)
    again = render(notice(ANA), ANA, SENDER)
    assert again.as_bytes(policy=_WIRE) == first
    # A policy with other settings finds nothing cached: written from scratch, the headers are the same.
    uncached = email.policy.SMTP.clone(max_line_length=998, linesep="\r\n", mangle_from_=False)
    assert again.as_bytes(policy=uncached) == first
    parsed = email.message_from_bytes(first, policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == ANA.email and parsed["Content-Language"] == "es"


def test_each_multipart_has_its_own_boundary_and_each_notice_its_own_token() -> None:
    def boundaries(message: Any) -> list[str]:
        return [part.get_boundary() for part in message.walk() if part.is_multipart()]

    both = notice(ANA, JOHN)
    ana, john = render(both.for_reader(ANA), ANA, SENDER), render(both.for_reader(JOHN), JOHN, SENDER)
    other = render(notice(ANA, JOHN, kind=NoticeKind.APPROVED).for_reader(ANA), ANA, SENDER)
    assert boundaries(ana) and len(set(boundaries(ana))) == len(boundaries(ana))
    token = boundaries(ana)[0].split(".")[0]
    assert all(b.startswith(token) for b in boundaries(ana) + boundaries(john))
    assert not any(b.startswith(token) for b in boundaries(other))
    wire = ana.as_bytes(policy=_WIRE).decode()
    for boundary in boundaries(ana):
        # Only the part separators hold it: no body does.
        assert wire.count(boundary) == wire.count(f"--{boundary}") + 1


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


BOUNCE = Recipient(name="Gone", email="bounce@state.example", locale=Locale.EN)


@contextmanager
def refusing_bounces() -> Iterator[tuple[_RefuseBounces, Mailer]]:
    """An SMTP server that refuses every `bounce…` address, and a mailer pointed at it."""
    handler = _RefuseBounces()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, Mailer(SmtpSettings(host="127.0.0.1", port=port))
    finally:
        controller.stop()


async def test_a_refused_address_is_reported_and_does_not_stop_the_others() -> None:
    with refusing_bounces() as (handler, mailer):
        report = await ActivityEnvironment().run(mailer.send_notice, notice(BOUNCE, JOHN))
    assert report.delivered == [JOHN.email]
    assert "mailbox unavailable" in report.refused[BOUNCE.email]
    assert [e.rcpt_tos for e in handler.received] == [[JOHN.email]]


# --- one message per activity (notices delivered beside the lifecycle) ------------------------


def request_for(recipient: Recipient, base: Notice | None = None) -> MessageRequest:
    return MessageRequest(notice=(base or notice(recipient)).for_reader(recipient), recipient=recipient)


async def test_send_message_sends_exactly_one_message(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, port=free_port()).start()
    try:
        outcome = await ActivityEnvironment().run(
            Mailer(SmtpSettings(host=outbox.host, port=outbox.port, sender=SENDER)).send_message, request_for(ANA)
        )
        received = outbox.messages()
    finally:
        outbox.stop()
    assert outcome == MessageOutcome()
    assert [m["To"].addresses[0].addr_spec for m in received] == [ANA.email]
    assert received[0]["Message-ID"] == render(notice(ANA), ANA, SENDER)["Message-ID"]


async def test_send_message_reports_a_refused_address_as_an_answer() -> None:
    with refusing_bounces() as (handler, mailer):
        outcome = await ActivityEnvironment().run(mailer.send_message, request_for(BOUNCE))
    assert outcome.refused is not None and "mailbox unavailable" in outcome.refused
    assert handler.received == []


async def test_send_message_with_smtp_down_fails_the_attempt_so_temporal_retries_it() -> None:
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2))
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await ActivityEnvironment().run(mailer.send_message, request_for(ANA))


async def test_a_message_that_cannot_be_written_is_not_retried() -> None:
    broken = Recipient(name="Ana\r\nBcc: x@evil.example", email="ana@minrel.example", locale=Locale.ES)
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=free_port()))
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(mailer.send_message, request_for(broken))
    assert raised.value.non_retryable and "cannot be written" in str(raised.value)


def test_a_reader_gets_the_same_message_from_the_notice_trimmed_to_their_language() -> None:
    documents = {Locale.EN: "# Minutes\n\nEnglish.\n", Locale.ES: "# Acta\n\nEspañol.\n"}
    full = notice(ANA, JOHN, kind=NoticeKind.APPROVED).model_copy(
        update={"documents": documents, "previous_documents": documents, "version": 2, "subject": "minutes"}
    )
    french = Recipient(name="Claire", email="claire@quai.example", locale=Locale.FR)  # no French: the first one
    for reader in (ANA, JOHN, french):
        trimmed = full.for_reader(reader)
        assert trimmed.recipients == [] and len(trimmed.documents) == 1
        whole, small = render(full, reader, SENDER), render(trimmed, reader, SENDER)
        assert body(whole) == body(small) and body(whole, "html") == body(small, "html")
        assert whole["Message-ID"] == small["Message-ID"]


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Ana <boss@evil.example>",
        "Dr. Pérez: Minister",
        'John "Johnny" Doe',
        '"><svg onload=alert(1)>',
        "Doe, John",
    ],
)
def test_a_display_name_is_quoted_so_it_names_nobody_else(name: str) -> None:
    reader = Recipient(name=name, email="ana@minrel.example", locale=Locale.EN)
    wire = render(notice(reader), reader, SENDER).as_bytes(policy=_WIRE)
    received = email.message_from_bytes(wire, policy=email.policy.default)
    to = received["To"]
    assert len(to.addresses) == 1
    assert (to.addresses[0].display_name, to.addresses[0].addr_spec) == (name, "ana@minrel.example")
    raw = next(line for line in wire.decode().splitlines() if line.startswith("To:"))
    # Quoted (or, not being ASCII, an encoded word): the name's own `<`, `:`, `"` or `,` are only text.
    assert raw.endswith(" <ana@minrel.example>") and (raw.startswith('To: "') or raw.startswith("To: =?utf-8?"))


@pytest.mark.parametrize(
    ("reader", "round_number", "summary"),
    [
        (ANA, 2, "Decidir sobre el acta de la ronda 2, versión 3 — Joint <Declaration> & Minerals"),
        (JOHN, 2, "Decide on the minutes of round 2, version 3 — Joint <Declaration> & Minerals"),
        (ANA, None, "Decidir sobre el borrador del acuerdo, versión 3 — Joint <Declaration> & Minerals"),
    ],
)
def test_an_approval_request_carries_its_due_date_in_the_readers_language(
    reader: Recipient, round_number: int | None, summary: str
) -> None:
    asked = notice(reader, kind=NoticeKind.APPROVAL_REQUEST).model_copy(
        update={"round_number": round_number, "version": 3, "subject": "minutes of round 2"}
    )
    message = render(asked, reader, SENDER)
    (part,) = [p for p in message.walk() if p.get_filename() == "approval-due.ics"]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == summary
    what = f"round-{round_number}-minutes" if round_number else "agreement"
    assert str(event["UID"]) == f"cl-us-{what}-v3-approval-due@consult.example"


class _CountSessions(_RefuseBounces):
    """Counts the SMTP sessions (one EHLO each) the messages came in."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses


async def test_messages_one_after_another_share_one_connection_and_a_refusal_does_not_spoil_it() -> None:
    handler = _CountSessions()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = Mailer(SmtpSettings(host="127.0.0.1", port=port))
        env = ActivityEnvironment()
        outcomes = [await env.run(mailer.send_message, request_for(r)) for r in (ANA, BOUNCE, JOHN, ANA)]
    finally:
        controller.stop()
    assert [o.refused is not None for o in outcomes] == [False, True, False, False]
    assert [e.rcpt_tos for e in handler.received] == [[ANA.email], [JOHN.email], [ANA.email]]
    assert handler.sessions == 1


# --- a batch of messages in one activity (send_messages, since one-activity-per-run) ------------


def batch(*people: Recipient) -> BatchRequest:
    return BatchRequest(notice=notice(*people))


def recording_heartbeats() -> tuple[ActivityEnvironment, list[BatchProgress]]:
    """An environment, and every heartbeat the activity sends in it, as the next attempt would read it."""
    env, beats = ActivityEnvironment(), list[BatchProgress]()
    env.on_heartbeat = lambda *details: beats.append(BatchProgress.model_validate(details[0]))
    return env, beats


async def test_a_batch_sends_each_recipient_one_message_and_heartbeats_each_one_settled(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, port=free_port()).start()
    env, beats = recording_heartbeats()
    try:
        outcome = await env.run(
            Mailer(SmtpSettings(host=outbox.host, port=outbox.port, sender=SENDER)).send_messages, batch(ANA, JOHN)
        )
        received = outbox.messages()
    finally:
        outbox.stop()
    assert outcome == DeliveryOutcome()
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == sorted([ANA.email, JOHN.email])
    # Each reader's own message: their language, the same Message-ID a per-message send would have used.
    by_to = {m["To"].addresses[0].addr_spec: m for m in received}
    assert by_to[ANA.email]["Content-Language"] == "es" and by_to[JOHN.email]["Content-Language"] == "en"
    assert by_to[ANA.email]["Message-ID"] == render(notice(ANA), ANA, SENDER)["Message-ID"]
    # Settled one by one, as they were accepted: what a worker killed in between would resume from.
    assert [len(b.settled) for b in beats] == [1, 2] and sorted(beats[-1].settled) == [0, 1]


async def test_a_batch_retried_skips_whoever_its_last_heartbeat_settled(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, port=free_port()).start()
    env = ActivityEnvironment()
    earlier = BatchProgress(settled=[0, 1], refused={BOUNCE.email: "550 gone"})
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[earlier.model_dump()])
    try:
        outcome = await env.run(
            Mailer(SmtpSettings(host=outbox.host, port=outbox.port)).send_messages, batch(ANA, BOUNCE, JOHN)
        )
        received = outbox.messages()
    finally:
        outbox.stop()
    assert [m["To"].addresses[0].addr_spec for m in received] == [JOHN.email]
    assert outcome == DeliveryOutcome(refused={BOUNCE.email: "550 gone"})


async def test_a_batch_reports_a_refused_address_and_a_message_that_cannot_be_written_and_sends_the_rest() -> None:
    broken = Recipient(name="Eve\r\nBcc: x@evil.example", email="eve@minrel.example", locale=Locale.ES)
    with refusing_bounces() as (handler, mailer):
        outcome = await ActivityEnvironment().run(mailer.send_messages, batch(BOUNCE, broken, JOHN))
    assert "mailbox unavailable" in outcome.refused[BOUNCE.email]
    assert "cannot be written" in outcome.failed[broken.email]
    assert [e.rcpt_tos for e in handler.received] == [[JOHN.email]]


async def test_a_batch_with_smtp_down_fails_the_attempt_having_settled_nobody() -> None:
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2))
    env, beats = recording_heartbeats()
    with pytest.raises(ApplicationError) as raised:
        await env.run(mailer.send_messages, batch(ANA, JOHN))
    # Retried by Temporal, and says who was settled should it be the last attempt (nobody).
    assert not raised.value.non_retryable and isinstance(raised.value.__cause__, aiosmtplib.SMTPConnectError)
    assert BatchProgress.model_validate(raised.value.details[0]) == BatchProgress()
    assert all(b.settled == [] for b in beats)

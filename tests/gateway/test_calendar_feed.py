"""An operator's calendar feed, subscribed to over HTTP: the URL from `consult calendar-url`, the feed
read with `icalendar` and with `vobject`, the meeting moved through `consult round reschedule`, and
the refusals (a tampered URL, a revoked one, Temporal out of reach)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import icalendar
import pytest
import vobject
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from gateway.app import create_app
from operations.consultations import start
from schemas.consultation import OpenRoundRequest
from schemas.declaration import Declaration
from tests.helpers import AGENDA, CL_LEAD, CL_OPERATOR, declaration_data, eventually, running_worker
from tests.helpers.cli import Consult
from tests.helpers.gateway import LINK_KEYS, Gateway, mail_to, serving
from tests.workflows.test_invitations import invite, parse_both
from workflows.consultation import Consultation

pytestmark = pytest.mark.asyncio(loop_scope="session")

SANTIAGO = timezone(timedelta(hours=-3))
DAY = timedelta(days=1)
HALF_HOUR = timedelta(minutes=30)


def feed_url(output: str) -> str:
    (url,) = re.findall(r"^(https?://\S+/calendar/\S+\.ics)$", output, re.MULTILINE)
    return str(url)


def read_feed(data: bytes) -> dict[str, dict[str, Any]]:
    """UID → (summary, start, sequence) as icalendar reads the feed, checked against vobject's reading."""
    events = {
        str(e["UID"]): {
            "summary": str(e["SUMMARY"]),
            "start": e.decoded("DTSTART"),
            "sequence": int(str(e["SEQUENCE"])),
        }
        for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
    }
    other = {v.uid.value: (v.dtstart.value, int(v.sequence.value)) for v in vobject.readOne(data.decode()).vevent_list}
    assert other == {uid: (e["start"], e["sequence"]) for uid, e in events.items()}
    return events


def tampered(url: str, operator: str) -> str:
    """The same URL with its claims changed to another operator's, the signature kept."""
    head, _, rest = url.rpartition("/")
    header, payload, signature = rest.removesuffix(".ics").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": operator}).encode()).rstrip(b"=").decode()
    return f"{head}/{header}.{forged}.{signature}.ics"


async def open_round(client: Client, declaration: Declaration, task_queue: str) -> None:
    handle = await start(client, declaration, task_queue)
    signed = declaration.signed_at
    await handle.execute_update(
        Consultation.open_round,
        OpenRoundRequest(
            meeting_at=signed + 10 * DAY, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR
        ),
    )


async def test_an_operators_feed_over_http(dev_env: WorkflowEnvironment, outbox: Outbox, gateway: Gateway) -> None:
    client = dev_env.client
    operator = f"feed-{uuid.uuid4().hex[:8]}@minrel.example"
    signed = datetime.now(SANTIAGO).replace(microsecond=0) - timedelta(minutes=1)
    theirs = {"operators": [{"email": operator, "name": "Secretaría", "locale": "es"}, CL_OPERATOR]}
    with_round = Declaration.model_validate(declaration_data(signed, **theirs))
    declared = Declaration.model_validate(declaration_data(signed, **theirs))
    not_theirs = Declaration.model_validate(declaration_data(signed))
    a, d = with_round.id, declared.id
    async with running_worker(client, outbox, gateway.signer, gateway.url) as task_queue:
        await open_round(client, with_round, task_queue)
        await open_round(client, not_theirs, task_queue)
        await start(client, declared, task_queue)
        consult = Consult(client, task_queue)
        env = {"CONSULT_LINK_KEYS": LINK_KEYS, "CONSULT_GATEWAY_URL": gateway.url}

        printed = await consult("calendar-url", "--by", operator.upper(), **env)
        assert printed.exit_code == 0, printed.output
        assert f"Calendar feed of {operator} (URL number 1" in printed.stdout
        assert f"CONSULT_CALENDAR_REVOKED={operator}:1" in printed.stdout
        url = feed_url(printed.stdout)
        assert url.startswith(f"{gateway.url}/calendar/") and "webcal://" in printed.stdout

        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(url)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
            assert answer.headers["x-content-type-options"] == "nosniff"
            events = read_feed(answer.content)
            meeting, due, first = (
                f"{a}-round-1-meeting@consult.localhost",
                f"{a}-round-1-inputs-due@consult.localhost",
                f"{d}-first-round-deadline@consult.localhost",
            )
            # Only this operator's consultations: the round's meeting and inputs due, the other's first deadline.
            assert set(events) == {meeting, due, first}
            assert not any(not_theirs.id in uid for uid in events)
            assert events[meeting]["start"] == (signed + 10 * DAY).astimezone(SANTIAGO)
            assert events[meeting]["sequence"] == 0
            assert events[meeting]["summary"].startswith("Reunión de la ronda 1")  # the operator reads Spanish
            assert events[due]["start"] == (signed + 8 * DAY - HALF_HOUR).astimezone(SANTIAGO)
            assert events[first]["start"] == (signed + 15 * DAY - HALF_HOUR).astimezone(SANTIAGO)
            # The same event as the emailed invitation: one UID in a calendar that has both.
            emailed = await eventually(lambda: mail_to(outbox, a, "round_scheduled", CL_LEAD) or None)
            assert parse_both(invite(emailed[0]))["uid"] == meeting

            # The meeting moves (and a move into the past is refused): the feed's event follows, SEQUENCE 1.
            moved = (signed + 11 * DAY + timedelta(hours=5)).astimezone(SANTIAGO)
            refused = await consult(
                "round", "reschedule", a, "--meeting", "2026-01-02", "--reason", "Too late", "--by", operator
            )
            assert refused.exit_code == 1 and "refused: the meeting must be in the future" in refused.output
            done = await consult(
                "round", "reschedule", a, "--meeting", moved.isoformat(), "--reason", "Agendas", "--by", operator
            )
            assert done.exit_code == 0, done.output
            assert "Meeting moved to" in done.stdout and "(update 1)" in done.stdout
            events = read_feed((await http.get(url)).content)
            assert events[meeting]["start"] == moved and events[meeting]["sequence"] == 1
            assert events[due]["sequence"] == 1

            # A tampered URL (claims changed, signature kept) is refused in plain words, before Temporal.
            forged = await http.get(tampered(url, CL_OPERATOR))
            assert forged.status_code == 400 and "damaged" in forged.text
            assert forged.headers["content-type"].startswith("text/plain")
            assert forged.headers["x-frame-options"] == "DENY"
            # An email link's token does not open a feed.
            assert (await http.get(f"{gateway.url}/calendar/not-a-token.ics")).status_code == 400

        # Revoked: a gateway told URLs up to 1 are revoked refuses this one; the next URL (number 2) opens.
        revoked = {"CONSULT_CALENDAR_REVOKED": f"{operator}:1", **env}
        renewed = await consult("calendar-url", "--by", operator, **revoked)
        assert renewed.exit_code == 0 and "URL number 2" in renewed.stdout

        async def clients() -> Client:
            return client

        app = create_app(signer=gateway.signer, clients=clients, revoked_feeds={operator: 1})
        async with serving(app) as other, httpx.AsyncClient(timeout=30) as http:
            old = await http.get(url.replace(gateway.url, other))
            assert old.status_code == 403 and "revoked" in old.text and "consult calendar-url" in old.text
            new = await http.get(feed_url(renewed.stdout).replace(gateway.url, other))
            assert new.status_code == 200 and meeting in read_feed(new.content)

    # A mistyped revocation setting is bad input, said at once.
    bad = await consult("calendar-url", "--by", operator, CONSULT_CALENDAR_REVOKED="nobody", **env)
    assert bad.exit_code == 2 and "CONSULT_CALENDAR_REVOKED" in bad.output


async def test_the_feed_is_a_503_while_temporal_is_out_of_reach(gateway: Gateway) -> None:
    async def unreachable() -> Client:
        raise RuntimeError("Failed client connect: connection refused")

    url = f"/calendar/{gateway.signer.sign_feed('ops@minrel.example', 1, datetime.now(SANTIAGO))}.ics"
    app = create_app(signer=gateway.signer, clients=unreachable)
    async with serving(app) as other, httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(other + url)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"

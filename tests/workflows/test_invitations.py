"""Meeting invitations that update themselves, read from real emails received over SMTP.

A round opened, its meeting moved, then the consultation withdrawn: the invitation,
the update and the cancellation each parse with `icalendar` and with `vobject` (an
independent parser), and applied in order to one event store (by UID, highest
SEQUENCE wins) they leave the meeting cancelled at its moved time.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations.consultations import start
from schemas.consultation import OpenRoundRequest, WithdrawRequest
from schemas.rounds import RescheduleMeetingRequest
from tests.helpers import AGENDA, CL_LEAD, CL_OPERATOR, US_LEAD, eventually, make_declaration, running_worker
from tests.helpers.gateway import mail_to
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound, round_workflow_id

pytestmark = pytest.mark.asyncio(loop_scope="session")

SANTIAGO = timezone(timedelta(hours=-3))
DAY = timedelta(days=1)
EXAMPLE = Path(os.environ.get("CONSULT_EXAMPLE_ICS", "/tmp/consult-invitation-example.ics"))


def calendar_parts(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(filename or "inline", method parameter, content) of every text/calendar part."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            found.append((part.get_filename() or "inline", str(part.get_param("method")), data))
    return found


def invite(message: EmailMessage) -> bytes:
    files = {name: data for name, _, data in calendar_parts(message)}
    return files["invite.ics"]


def strict_unfold(data: bytes) -> list[str]:
    """RFC 5545 §3.1 by hand: CRLF line ends, no line over 75 octets, continuation lines start with a space."""
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    out: list[bytes] = []
    for line in lines:
        if line.startswith((b" ", b"\t")):
            out[-1] += line[1:]
        else:
            out.append(line)
    return [line.decode() for line in out]


def parse_both(data: bytes) -> dict[str, Any]:
    """What a calendar applies, as read by icalendar, checked against vobject and the strict line reading."""
    cal = icalendar.Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    (zone,) = cal.walk("VTIMEZONE")
    other = vobject.readOne(data.decode())
    v = other.vevent
    lines = strict_unfold(data)
    facts = {
        "method": str(cal["METHOD"]),
        "uid": str(event["UID"]),
        "sequence": int(str(event["SEQUENCE"])),
        "start": event.decoded("DTSTART"),
        "tzid": str(event["DTSTART"].params["TZID"]),
        "zone": str(zone["TZID"]),
        "offset": zone.walk("STANDARD")[0].decoded("TZOFFSETTO"),
        "organizer": str(event.get("ORGANIZER", "")),
        "attendees": {str(a): str(a.params["ROLE"]) for a in _list(event.get("ATTENDEE"))},
        "alarms": [a.decoded("TRIGGER") for a in event.walk("VALARM")],
        "status": str(event["STATUS"]),
    }
    # The independent readings agree.
    assert other.method.value == facts["method"]
    assert v.uid.value == facts["uid"] and int(v.sequence.value) == facts["sequence"]
    assert v.dtstart.value == facts["start"]
    assert f"METHOD:{facts['method']}" in lines
    assert f"UID:{facts['uid']}" in lines
    assert any(line.startswith(f"DTSTART;TZID={facts['tzid']}:") for line in lines)
    return facts


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def apply(store: dict[str, dict[str, Any]], facts: dict[str, Any]) -> None:
    """What a calendar client does with an iTIP message: keep the highest SEQUENCE per UID."""
    current = store.get(facts["uid"])
    if current is not None and current["sequence"] >= facts["sequence"]:
        return
    if facts["method"] == "CANCEL":
        store[facts["uid"]] = {**(current or facts), "sequence": facts["sequence"], "status": "CANCELLED"}
    else:
        store[facts["uid"]] = facts


async def test_invitation_update_and_cancellation_apply_in_order_to_one_event(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = dev_env.client
    declaration = make_declaration(datetime.now(SANTIAGO).replace(microsecond=0) - timedelta(minutes=1))
    cid, signed = declaration.id, declaration.signed_at
    meeting, moved = signed + 10 * DAY, signed + 11 * DAY + timedelta(hours=5)
    async with running_worker(client, outbox) as task_queue:
        handle = await start(client, declaration, task_queue)
        await handle.execute_update(
            Consultation.open_round,
            OpenRoundRequest(meeting_at=meeting, inputs_due=signed + 8 * DAY, pillars=AGENDA, requested_by=CL_OPERATOR),
        )
        scheduled = await eventually(lambda: mail_to(outbox, cid, "round_scheduled", CL_LEAD) or None)
        requested = await eventually(lambda: mail_to(outbox, cid, "input_request", US_LEAD) or None)

        round_ = client.get_workflow_handle_for(TechnicalRound.run, round_workflow_id(handle.id, 1))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await round_.execute_update(
                TechnicalRound.reschedule,
                RescheduleMeetingRequest(
                    meeting_at=signed + 7 * DAY, reason="Too early for the inputs", requested_by=CL_OPERATOR
                ),
            )
        assert "after the meeting" in str(refused.value.cause)
        await round_.execute_update(
            TechnicalRound.reschedule,
            RescheduleMeetingRequest(meeting_at=moved, reason="Ministers' agendas", requested_by=CL_OPERATOR),
        )
        update = await eventually(lambda: mail_to(outbox, cid, "meeting_rescheduled", CL_LEAD) or None)
        status = await eventually(
            lambda: _moved(handle, moved)  # the consultation learns where the meeting is from the round
        )
        await handle.execute_update(
            Consultation.withdraw, WithdrawRequest(reason="Superseded", requested_by=CL_OPERATOR)
        )
        withdrawn = await eventually(lambda: mail_to(outbox, cid, "withdrawn", CL_LEAD) or None)
    assert status.rounds[0].meeting_sequence == 1

    first = parse_both(invite(scheduled[0]))
    EXAMPLE.write_bytes(invite(scheduled[0]))
    assert first["method"] == "REQUEST"
    assert first["uid"] == f"{cid}-round-1-meeting@consult.localhost"
    assert first["sequence"] == 0
    assert first["start"].replace(tzinfo=None) == meeting.astimezone(SANTIAGO).replace(tzinfo=None)
    assert first["tzid"] == first["zone"] == "UTC-0300" and first["offset"] == timedelta(hours=-3)
    assert first["organizer"] == f"mailto:{CL_OPERATOR}"
    # A Chilean reader's invitation names Chile's counterparts, each with their role.
    assert first["attendees"] == {
        "mailto:vrojas@minrel.example": "REQ-PARTICIPANT",
        "mailto:cfuentes@minrel.example": "OPT-PARTICIPANT",
    }
    assert first["alarms"] == [-DAY]
    # Inline as the calendar alternative, and attached.
    methods = {(name, method) for name, method, _ in calendar_parts(scheduled[0])}
    assert methods == {("inline", "REQUEST"), ("invite.ics", "REQUEST")}
    # In the reader's language.
    assert "Reunión de la ronda 1" in str(
        icalendar.Calendar.from_ical(invite(scheduled[0])).walk("VEVENT")[0]["SUMMARY"]
    )

    # The input request carries the meeting and, as its own event, the inputs' due date.
    files = {name: data for name, _, data in calendar_parts(requested[0])}
    assert parse_both(files["invite.ics"])["uid"] == first["uid"]
    due = parse_both(files["inputs-due.ics"])
    assert due["method"] == "PUBLISH" and due["uid"] == f"{cid}-round-1-inputs-due@consult.localhost"
    assert "Inputs due for round 1" in str(
        icalendar.Calendar.from_ical(files["inputs-due.ics"]).walk("VEVENT")[0]["SUMMARY"]
    )

    second = parse_both(invite(update[0]))
    assert (second["method"], second["uid"], second["sequence"]) == ("REQUEST", first["uid"], 1)
    assert second["start"].replace(tzinfo=None) == moved.astimezone(SANTIAGO).replace(tzinfo=None)

    third = parse_both(invite(withdrawn[0]))
    assert (third["method"], third["uid"], third["sequence"], third["status"]) == (
        "CANCEL",
        first["uid"],
        2,
        "CANCELLED",
    )

    # The inputs' due date, still ahead when the consultation was withdrawn, is cancelled with the meeting.
    gone = {name: (method, data) for name, method, data in calendar_parts(withdrawn[0])}
    assert gone["inputs-due.ics"][0] == "CANCEL"
    due_gone = parse_both(gone["inputs-due.ics"][1])
    assert (due_gone["method"], due_gone["uid"], due_gone["sequence"], due_gone["status"]) == (
        "CANCEL",
        due["uid"],
        2,
        "CANCELLED",
    )

    store: dict[str, dict[str, Any]] = {}
    for facts in (first, second, third):
        apply(store, facts)
    apply(store, first)  # a late copy of the first invitation changes nothing
    assert list(store) == [first["uid"]]
    assert store[first["uid"]]["status"] == "CANCELLED" and store[first["uid"]]["sequence"] == 2
    assert store[first["uid"]]["start"] == second["start"]


async def _moved(handle: Any, moved: datetime) -> Any:
    status = await handle.query(Consultation.status)
    return status if status.rounds and status.rounds[0].meeting_at == moved else None

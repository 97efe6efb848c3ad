"""Calendar invitations (iCalendar, RFC 5545/5546) for round meetings and the deadlines a person acts on.

One meeting keeps one UID for its whole life (`<consultation>-round-<n>-meeting@<domain>`);
an update (a reschedule) carries the same UID and a higher SEQUENCE, a cancellation
`METHOD:CANCEL` with the same UID and a higher SEQUENCE still, so a calendar that
imported the first invitation moves or removes that one event. Times are written in the
declaration's zone, declared as a VTIMEZONE with its fixed UTC offset (never bare UTC).

Pure functions (no clock, no I/O): the mail activity attaches what they build, and the
gateway's feed serves it. Workflows never import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parseaddr

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneStandard, vCalAddress, vText

from infra.i18n import N_, Words
from schemas.notices import MEETING_KINDS, Attendee, Notice, NoticeKind, Recipient

PRODID = "-//Consultation orchestrator//consult//EN"
# A meeting's length is not part of the declaration: an invitation blocks this much.
MEETING_LENGTH = timedelta(hours=2)
# A deadline shows as a short event ending at the moment it falls due.
DEADLINE_LENGTH = timedelta(minutes=30)
ALARM_BEFORE = timedelta(days=1)

MEETING_SUMMARY = N_("Round {round} meeting — {title}")
MEETING_DESCRIPTION = N_("Technical round {round} of the consultation “{title}”.")
INPUTS_DUE_SUMMARY = N_("Inputs due for round {round} — {title}")
APPROVAL_DUE_SUMMARY = N_("Decide on version {version} of {subject} — {title}")
DEADLINE_DESCRIPTION = N_("Deadline of the consultation “{title}”.")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    start: datetime
    length: timedelta
    stamp: datetime
    description: str = ""
    sequence: int = 0
    organizer: Recipient | None = None
    attendees: list[Attendee] = field(default_factory=list)
    cancelled: bool = False


@dataclass(frozen=True)
class Invitation:
    """One `.ics` file: what to call it and its iTIP method (REQUEST, CANCEL or PUBLISH)."""

    filename: str
    method: str
    data: bytes


def domain_of(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "consult.localhost"


def meeting_uid(consultation_id: str, round_number: int, domain: str) -> str:
    return f"{consultation_id}-round-{round_number}-meeting@{domain}"


def inputs_due_uid(consultation_id: str, round_number: int, domain: str) -> str:
    return f"{consultation_id}-round-{round_number}-inputs-due@{domain}"


def approval_due_uid(consultation_id: str, round_number: int | None, version: int | None, domain: str) -> str:
    what = f"round-{round_number}-minutes" if round_number else "agreement"
    return f"{consultation_id}-{what}-v{version or 1}-approval-due@{domain}"


def tzid(tz: timezone) -> str:
    offset = tz.utcoffset(None) or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}{minutes % 60:02d}"  # no colon: a TZID that needs no quoting


def _vtimezone(tz: timezone) -> Timezone:
    """A zone with one fixed offset, all year: what a declaration's `signed_at` offset says."""
    offset = tz.utcoffset(None) or timedelta(0)
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", offset)
    standard.add("tzoffsetto", offset)
    standard.add("tzname", tzid(tz))
    zone = Timezone()
    zone.add("tzid", tzid(tz))
    zone.add_component(standard)
    return zone


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def _local(moment: datetime, tz: timezone) -> datetime:
    """The moment as a wall-clock time in the zone, written `DTSTART;TZID=…:…` with the VTIMEZONE."""
    return moment.astimezone(tz).replace(tzinfo=None)


def calendar(events: list[CalendarEvent], tz: timezone, method: str | None = None, name: str | None = None) -> bytes:
    """One iCalendar object: the VTIMEZONE, then each event (with its alarm unless cancelled)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    cal.add_component(_vtimezone(tz))
    zone = tzid(tz)
    for e in events:
        event = Event()
        event.add("uid", e.uid)
        event.add("sequence", e.sequence)
        event.add("dtstamp", e.stamp.astimezone(UTC))
        event.add("dtstart", _local(e.start, tz), parameters={"TZID": zone})
        event.add("dtend", _local(e.start + e.length, tz), parameters={"TZID": zone})
        event.add("summary", e.summary)
        if e.description:
            event.add("description", e.description)
        event.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
        if e.organizer is not None:
            event.add("organizer", _address(e.organizer.email, e.organizer.name))
        for a in e.attendees:
            event.add("attendee", _address(a.email, a.name, ROLE=a.role, PARTSTAT="NEEDS-ACTION", CUTYPE="INDIVIDUAL"))
        if not e.cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", e.summary)
            alarm.add("trigger", -ALARM_BEFORE)
            event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())


# --- what each notice carries -------------------------------------------------------------


def _meeting_event(notice: Notice, words: Words, domain: str) -> CalendarEvent | None:
    if notice.meeting_at is None or notice.round_number is None:
        return None
    values = {"round": notice.round_number, "title": notice.title}
    return CalendarEvent(
        uid=meeting_uid(notice.consultation_id, notice.round_number, domain),
        summary=words.gettext(MEETING_SUMMARY, **values),
        description=words.gettext(MEETING_DESCRIPTION, **values),
        start=notice.meeting_at,
        length=MEETING_LENGTH,
        stamp=notice.issued_at,
        sequence=notice.calendar_sequence,
        organizer=notice.organizer,
        attendees=list(notice.attendees),
        cancelled=notice.meeting_cancelled,
    )


def _deadline_event(uid: str, summary: str, due: datetime, notice: Notice, words: Words) -> CalendarEvent:
    return CalendarEvent(
        uid=uid,
        summary=summary,
        description=words.gettext(DEADLINE_DESCRIPTION, title=notice.title),
        start=due - DEADLINE_LENGTH,
        length=DEADLINE_LENGTH,
        stamp=notice.issued_at,
        sequence=notice.calendar_sequence,
    )


def invitations(notice: Notice, words: Words, sender: str) -> list[Invitation]:
    """The calendar files one reader's message carries; the first, if a meeting, also goes inline.

    A meeting is an iTIP REQUEST (or CANCEL); each deadline the reader must act on is its own
    event, in its own PUBLISH file (an iTIP message holds one UID).
    """
    domain = domain_of(sender)
    found: list[Invitation] = []
    meeting = _meeting_event(notice, words, domain) if notice.kind in MEETING_KINDS else None
    if meeting is not None and (notice.kind not in _CANCELLING or notice.meeting_cancelled):
        method = "CANCEL" if meeting.cancelled else "REQUEST"
        found.append(Invitation("invite.ics", method, calendar([meeting], notice.tz, method)))
    n = notice.round_number
    if notice.kind in (NoticeKind.INPUT_REQUEST, NoticeKind.MEETING_RESCHEDULED) and notice.inputs_due and n:
        summary = words.gettext(INPUTS_DUE_SUMMARY, round=n, title=notice.title)
        event = _deadline_event(
            inputs_due_uid(notice.consultation_id, n, domain), summary, notice.inputs_due, notice, words
        )
        found.append(Invitation("inputs-due.ics", "PUBLISH", calendar([event], notice.tz, "PUBLISH")))
    if notice.kind is NoticeKind.APPROVAL_REQUEST and notice.deadline is not None:
        summary = words.gettext(
            APPROVAL_DUE_SUMMARY, version=notice.version or 1, subject=notice.subject or "", title=notice.title
        )
        uid = approval_due_uid(notice.consultation_id, n, notice.version, domain)
        event = _deadline_event(uid, summary, notice.deadline, notice, words)
        found.append(Invitation("approval-due.ics", "PUBLISH", calendar([event], notice.tz, "PUBLISH")))
    return found


# These carry a meeting only to cancel it.
_CANCELLING = frozenset({NoticeKind.WITHDRAWN, NoticeKind.DECLINED})

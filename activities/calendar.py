"""Calendar invitations (iCalendar, RFC 5545/5546) for round meetings and the deadlines a person acts on.

One meeting keeps one UID for its whole life (`<consultation>-round-<n>-meeting@<domain>`);
an update (a reschedule) carries the same UID and a higher SEQUENCE, a cancellation
`METHOD:CANCEL` with the same UID and a higher SEQUENCE still, so a calendar that
imported the first invitation moves or removes that one event. Times are written in the
declaration's zone, declared as a VTIMEZONE with its fixed UTC offset (never bare UTC).

Pure functions (no clock, no I/O): the mail activity attaches what they build, and the
gateway's feed (`feed_events`, `calendar`) serves the same events under the same UIDs and
SEQUENCEs, so a calendar holding both an invitation and the feed shows one event.
Workflows never import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parseaddr
from typing import Any

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneStandard, vCalAddress, vText

from activities.wording import the_document
from infra.i18n import N_, Words
from schemas.consultation import ConsultationStatus, Stage
from schemas.notices import MEETING_KINDS, Attendee, Notice, NoticeKind, Recipient
from schemas.rounds import RoundState, RoundStatus

PRODID = "-//Consultation orchestrator//consult//EN"
# A meeting's length is not part of the declaration: an invitation blocks this much.
MEETING_LENGTH = timedelta(hours=2)
# A deadline shows as a short event ending at the moment it falls due.
DEADLINE_LENGTH = timedelta(minutes=30)
ALARM_BEFORE = timedelta(days=1)

MEETING_SUMMARY = N_("Round {round} meeting — {title}")
MEETING_DESCRIPTION = N_("Technical round {round} of the consultation “{title}”.")
INPUTS_DUE_SUMMARY = N_("Inputs due for round {round} — {title}")
APPROVAL_DUE_SUMMARY = N_("Decide on {the_doc}, version {version} — {title}")
DEADLINE_DESCRIPTION = N_("Deadline of the consultation “{title}”.")
FIRST_ROUND_SUMMARY = N_("Deadline for the first technical round — {title}")


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
    tz: timezone | None = None  # its consultation's zone, in a feed of several; else the calendar's


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


def first_round_uid(consultation_id: str, domain: str) -> str:
    return f"{consultation_id}-first-round-deadline@{domain}"


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
    zones = {tzid(z): z for z in [tz, *(e.tz for e in events if e.tz is not None)]}
    for z in zones.values():
        cal.add_component(_vtimezone(z))
    for e in events:
        event_tz = e.tz or tz
        zone = tzid(event_tz)
        event = Event()
        event.add("uid", e.uid)
        event.add("sequence", e.sequence)
        event.add("dtstamp", e.stamp.astimezone(UTC))
        event.add("dtstart", _local(e.start, event_tz), parameters={"TZID": zone})
        event.add("dtend", _local(e.start + e.length, event_tz), parameters={"TZID": zone})
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


def meeting_event(
    consultation_id: str, round_number: int, title: str, start: datetime, words: Words, domain: str, **more: Any
) -> CalendarEvent:
    """A round's meeting, as the invitations and the feed both give it (`more`: stamp, sequence, ...)."""
    values = {"round": round_number, "title": title}
    return CalendarEvent(
        uid=meeting_uid(consultation_id, round_number, domain),
        summary=words.gettext(MEETING_SUMMARY, **values),
        description=words.gettext(MEETING_DESCRIPTION, **values),
        start=start,
        length=MEETING_LENGTH,
        **more,
    )


def deadline_event(uid: str, summary: str, due: datetime, title: str, words: Words, **more: Any) -> CalendarEvent:
    """A moment someone must act by, as a short event ending at it (`more`: stamp, sequence, ...)."""
    description = words.gettext(DEADLINE_DESCRIPTION, title=title)
    return CalendarEvent(uid, summary, due - DEADLINE_LENGTH, DEADLINE_LENGTH, description=description, **more)


def _meeting_event(notice: Notice, words: Words, domain: str) -> CalendarEvent | None:
    if notice.meeting_at is None or notice.round_number is None:
        return None
    return meeting_event(
        notice.consultation_id,
        notice.round_number,
        notice.title,
        notice.meeting_at,
        words,
        domain,
        stamp=notice.issued_at,
        sequence=notice.calendar_sequence,
        organizer=notice.organizer,
        attendees=list(notice.attendees),
        cancelled=notice.meeting_cancelled,
    )


def _deadline_event(uid: str, summary: str, due: datetime, notice: Notice, words: Words) -> CalendarEvent:
    return deadline_event(
        uid, summary, due, notice.title, words, stamp=notice.issued_at, sequence=notice.calendar_sequence
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
    cancelling = notice.kind in _CANCELLING and notice.meeting_cancelled
    # Inputs due: announced with the request and each move, cancelled with the meeting.
    carries_due = notice.kind in (NoticeKind.INPUT_REQUEST, NoticeKind.MEETING_RESCHEDULED) or cancelling
    if carries_due and notice.inputs_due and n:
        summary = words.gettext(INPUTS_DUE_SUMMARY, round=n, title=notice.title)
        event = _deadline_event(
            inputs_due_uid(notice.consultation_id, n, domain), summary, notice.inputs_due, notice, words
        )
        method = "CANCEL" if cancelling else "PUBLISH"
        event = replace(event, cancelled=cancelling)
        found.append(Invitation("inputs-due.ics", method, calendar([event], notice.tz, method)))
    if notice.kind is NoticeKind.APPROVAL_REQUEST and notice.deadline is not None:
        summary = approval_summary(words, n, notice.version or 1, notice.title)
        uid = approval_due_uid(notice.consultation_id, n, notice.version, domain)
        event = _deadline_event(uid, summary, notice.deadline, notice, words)
        found.append(Invitation("approval-due.ics", "PUBLISH", calendar([event], notice.tz, "PUBLISH")))
    return found


def approval_summary(words: Words, round_number: int | None, version: int, title: str) -> str:
    """What an approver decides on, named in their language (the workflow's `subject` is English)."""
    return words.gettext(APPROVAL_DUE_SUMMARY, the_doc=the_document(round_number, words), version=version, title=title)


# --- an operator's feed -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSource:
    """What the feed reads of one consultation: its status, its open round's own status, its zone."""

    status: ConsultationStatus
    open_round: RoundStatus | None
    tz: timezone


def feed_events(source: FeedSource, words: Words, domain: str, now: datetime) -> list[CalendarEvent]:
    """The consultation's meetings and deadlines that have not ended yet, as the emails carry them:
    the same UIDs, and the SEQUENCE each one has reached (a meeting's moves; the first-round
    deadline's extensions). A feed never cancels: what is over or withdrawn is simply not in it."""
    s, r = source.status, source.open_round
    title = s.title
    found: list[CalendarEvent] = []

    def deadline(uid: str, summary: str, due: datetime, sequence: int = 0) -> None:
        found.append(deadline_event(uid, summary, due, title, words, stamp=now, sequence=sequence, tz=source.tz))

    if s.stage is Stage.DECLARED:
        summary = words.gettext(FIRST_ROUND_SUMMARY, title=title)
        deadline(first_round_uid(s.id, domain), summary, s.first_round_deadline, len(s.extensions))
    if r is not None and r.state is not RoundState.CLOSED and s.stage is Stage.TECHNICAL_ROUNDS:
        moves = len(r.reschedules)
        values = {"round": r.number, "title": title}
        found.append(
            meeting_event(s.id, r.number, title, r.meeting_at, words, domain, stamp=now, sequence=moves, tz=source.tz)
        )
        if r.state is RoundState.COLLECTING:
            summary = words.gettext(INPUTS_DUE_SUMMARY, **values)
            deadline(inputs_due_uid(s.id, r.number, domain), summary, r.inputs_due, moves)
        if r.state is RoundState.MINUTES_APPROVAL and r.approval is not None:
            a = r.approval
            summary = approval_summary(words, r.number, a.version, title)
            deadline(approval_due_uid(s.id, r.number, a.version, domain), summary, a.deadline)
    if s.stage is Stage.AWAITING_APPROVAL and s.agreement_approval is not None:
        a = s.agreement_approval
        summary = approval_summary(words, None, a.version, title)
        deadline(approval_due_uid(s.id, None, a.version, domain), summary, a.deadline)
    return [e for e in found if e.start + e.length > now]


# These carry a meeting only to cancel it.
_CANCELLING = frozenset({NoticeKind.WITHDRAWN, NoticeKind.DECLINED})

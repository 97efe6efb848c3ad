"""Time zones and the operators' compact date format: pure functions shared by the CLI, the gateway, activities
and workflows.

Workflows import this module inside the sandbox (it is not passed through), so it
must stay pure: no clock, no environment, no files. Dates in a reader's language
(which read Babel's locale data from files) are `infra.i18n.Words.when`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas.working_days import Count, Counting


def display_tz(signed_at: datetime) -> timezone:
    """The zone every date of a consultation is shown in: the one its declaration was signed in."""
    offset = signed_at.utcoffset() or timedelta(0)
    return timezone(offset)


def offset_minutes(tz: timezone) -> int:
    """A consultation's zone as it travels in notices and calendars: minutes east of UTC."""
    return int((tz.utcoffset(None) or timedelta(0)).total_seconds() // 60)


def fmt(when: datetime, tz: timezone) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")


def counted(counting: Counting) -> str:
    """How a deadline was counted, in the operators' words: "10 working days (CL, US holidays)"."""
    unit = "working day" if counting.count is Count.WORKING_DAYS else "calendar day"
    words = f"{counting.days} {unit}{'' if counting.days == 1 else 's'}"
    return f"{words} ({', '.join(counting.calendars)} holidays)" if counting.calendars else words


def fmt_counted(when: datetime, counting: Counting | None, tz: timezone) -> str:
    """`fmt(when)`, preceded by how it was counted when that is known: "10 working days (…) → 2026-12-11 …"."""
    return f"{counted(counting)} → {fmt(when, tz)}" if counting else fmt(when, tz)

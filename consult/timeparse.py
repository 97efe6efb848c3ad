"""Dates typed by operators on the command line."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo


def parse_when(text: str, tz: tzinfo, *, end_of_day: bool) -> datetime:
    """An ISO date or date-time; without an offset it is read in `tz` (the declaration's zone).

    A bare date means the start of that day, or its last minute when `end_of_day`
    (for "due by" dates: `--inputs-due 2026-12-10` means by the end of the 10th).
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[±HH:MM]") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment

"""Dates typed by operators on the command line."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

from schemas.limits import EARLIEST_YEAR, LATEST_YEAR

# The forms the README documents, and nothing else: `date.fromisoformat` would also read
# 20261210 or 2026-W50-1, and pydantic would read 1764200000 as seconds since 1970.
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


def parse_when(text: str, tz: tzinfo, *, end_of_day: bool) -> datetime:
    """An ISO date or date-time; without an offset it is read in `tz` (the declaration's zone).

    A bare date means the start of that day, or its last minute when `end_of_day`
    (for "due by" dates: `--inputs-due 2026-12-10` means by the end of the 10th).
    """
    text = text.strip()
    try:
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
        elif _MOMENT.fullmatch(text):
            moment = datetime.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[±HH:MM]") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"{text!r} is not a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment

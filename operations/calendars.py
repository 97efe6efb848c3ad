"""The parties' working calendar, computed once when a consultation starts.

The `holidays` package is read here and only here: its data changes between releases,
so the dates it gives are recorded in the consultation's input and never computed again
(the workflow stays deterministic, and an upgrade cannot move a running deadline).
"""

from __future__ import annotations

from datetime import date, datetime

import holidays

from infra.formatting import display_tz, offset_minutes
from schemas.declaration import Declaration, PartyCalendar
from schemas.working_days import WorkingCalendar

# Holidays are recorded from the signature to this many years after the later of the
# signature and the start: far longer than any window a declaration can write (365 days
# each), room for extensions and later rounds. Past it, only weekends are skipped.
YEARS_RECORDED = 5


class UnknownCalendar(ValueError):
    """A party whose public holidays the `holidays` package does not know."""


def working_calendar(declaration: Declaration, today: date) -> WorkingCalendar | None:
    """The common non-working days of every party, or None when no window counts working days."""
    if not declaration.counts_working_days:
        return None
    signed = declaration.signed_at.date()
    first = signed
    last = _years_after(max(signed, today), YEARS_RECORDED)
    weekend: set[int] = set()
    days: set[date] = set()
    for party, calendar in _calendars(declaration):
        country = _country(party, calendar, range(first.year, last.year + 1))
        weekend |= set(country.weekend)
        days |= {day for day in country if first <= day <= last}
    return WorkingCalendar(
        calendars=[c.label for c in declaration.holiday_calendars],
        first_day=first,
        last_day=last,
        weekend=sorted(weekend),
        holidays=sorted(days),
        utc_offset_minutes=offset_minutes(display_tz(declaration.signed_at)),
    )


def _calendars(declaration: Declaration) -> list[tuple[str, PartyCalendar]]:
    return [(party.code, party.holiday_calendar) for party in declaration.parties]


def _country(party: str, calendar: PartyCalendar, years: range) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(calendar.country, subdiv=calendar.subdiv, years=years)
    except NotImplementedError:
        where = f"country {calendar.country}" + (f" subdivision {calendar.subdiv}" if calendar.subdiv else "")
        raise UnknownCalendar(
            f"party {party}: no public holidays are known for {where}, and the declaration counts "
            f"working days; add `calendar:` to the party with a country the holidays package knows "
            f"(e.g. `calendar: CL` or `calendar: {{country: US, subdiv: DC}}`)"
        ) from None


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def today_in(declaration: Declaration, now: datetime) -> date:
    return now.astimezone(declaration.signed_at.tzinfo).date()

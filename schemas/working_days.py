"""Windows counted in calendar days or in the parties' common working days: pure date arithmetic.

A consultation that counts working days carries a `WorkingCalendar` in its input: the
weekend days and public holidays of every party, computed once when it starts (outside
the workflow, from the `holidays` package) and recorded. The workflow only does the
arithmetic below, so a replay, or an upgrade of the `holidays` data, never moves a
deadline of a running consultation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, PrivateAttr

from schemas.base import Model


class Count(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


class Counting(Model):
    """How a deadline was counted, for the people who read it ("10 working days (CL, US holidays)")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int
    count: Count = Count.CALENDAR_DAYS
    # The calendars whose holidays were skipped (empty: none).
    calendars: list[str] = Field(default_factory=list)


class WorkingCalendar(Model):
    """The days on which some party does not work, between `first_day` and `last_day` (inclusive).

    `weekend` holds the weekdays (Monday = 0) that are a weekend for some party, and `holidays`
    the public holidays of any party. Past `last_day` only weekends are known: a date there
    is counted as a working day unless it falls on one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    calendars: Annotated[list[str], Field(min_length=1)]  # e.g. ["CL", "US-DC"]
    first_day: date
    last_day: date
    weekend: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: [5, 6])
    holidays: list[date] = Field(default_factory=list)
    # The declaration's own time zone: a deadline's date is its date there.
    utc_offset_minutes: int = 0
    _holiday_set: frozenset[date] = PrivateAttr(default_factory=frozenset)

    def model_post_init(self, context: object, /) -> None:
        self._holiday_set = frozenset(self.holidays)

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_minutes))

    def is_holiday(self, day: date) -> bool:
        return day in self._holiday_set

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and not self.is_holiday(day)

    def next_working_day(self, day: date) -> date:
        """`day` itself when everyone works that day, else the first such day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add(self, start: datetime, days: int, count: Count) -> datetime:
        """The deadline `days` after `start`, at the same time of day.

        Working days: the `days`-th day after `start`'s date on which every party works.
        Calendar days: `start + days`, moved to the next common working day when it falls
        on a party's public holiday (a weekend is kept: it is counted in calendar days).
        """
        local = start.astimezone(self.tz)
        if count is Count.CALENDAR_DAYS:
            end = local + timedelta(days=days)
            if self.is_holiday(end.date()):
                end = _on(end, self.next_working_day(end.date()))
            return end
        day = local.date()
        for _ in range(days):
            day = self.next_working_day(day + timedelta(days=1))
        return _on(local, day)

    def subtract(self, deadline: datetime, days: int, count: Count) -> datetime:
        """The moment `days` before `deadline` (for reminders), at the same time of day.

        Working days: the day on which `days` common working days are left before the deadline.
        """
        local = deadline.astimezone(self.tz)
        if count is Count.CALENDAR_DAYS:
            return local - timedelta(days=days)
        day = local.date()
        for _ in range(days):
            day -= timedelta(days=1)
            while not self.is_working_day(day):
                day -= timedelta(days=1)
        return _on(local, day)


def _on(moment: datetime, day: date) -> datetime:
    return moment.replace(year=day.year, month=day.month, day=day.day)


def add(calendar: WorkingCalendar | None, start: datetime, days: int, count: Count) -> datetime:
    """`start + days` in calendar days when there is no calendar (every declaration before working days)."""
    if calendar is None:
        return start + timedelta(days=days)
    return calendar.add(start, days, count)


def subtract(calendar: WorkingCalendar | None, deadline: datetime, days: int, count: Count) -> datetime:
    if calendar is None:
        return deadline - timedelta(days=days)
    return calendar.subtract(deadline, days, count)

"""Deadlines in the parties' common working days, with Chile's and the United States' real holidays.

Dates computed by hand (December 2026 - January 2027, weekends on Saturday and Sunday):
Chile keeps 8 Dec (Inmaculada Concepción), both keep 25 Dec and 1 Jan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from infra.formatting import counted
from operations.calendars import UnknownCalendar, working_calendar
from schemas.consultation import ConsultationInput
from schemas.declaration import Declaration
from schemas.working_days import Count, WorkingCalendar
from tests.helpers import make_declaration
from workflows import rules

SIGNED = datetime.fromisoformat("2026-12-01T10:00:00-03:00")  # a Tuesday
WORKING = {"count": "working_days"}


def declaration(**overrides: object) -> Declaration:
    return make_declaration(SIGNED, **overrides)


def consultation(**overrides: object) -> ConsultationInput:
    d = declaration(**overrides)
    return ConsultationInput(declaration=d, calendar=working_calendar(d, SIGNED.date()))


def test_calendar_records_both_countries_holidays_and_weekends() -> None:
    calendar = consultation(first_round_within={"days": 15, **WORKING}).calendar
    assert calendar is not None
    assert calendar.calendars == ["CL", "US"]
    assert calendar.weekend == [5, 6]
    assert calendar.utc_offset_minutes == -180
    assert (calendar.first_day, calendar.last_day) == (date(2026, 12, 1), date(2031, 12, 1))
    december = [d for d in calendar.holidays if date(2026, 11, 20) <= d <= date(2027, 1, 20)]
    # 26 Nov (US Thanksgiving) is before the signature, so not recorded; 18 Jan 2027 is US MLK Day.
    assert december == [date(2026, 12, 8), date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 18)]


def test_fifteen_working_days_skip_the_8th_of_december() -> None:
    # From Wed 2 Dec: 2,3,4 | 7, (8 CL holiday), 9,10,11 | 14..18 | 21,22,23 -> the 15th is Wed 23 Dec.
    input = consultation(first_round_within={"days": 15, **WORKING})
    assert input.first_round_deadline == datetime.fromisoformat("2026-12-23T10:00:00-03:00")


def test_twenty_two_working_days_skip_the_8th_christmas_and_new_year() -> None:
    # After the 23rd (15): 24 (16), (25 holiday), 28, 29, 30, 31 (20), (1 Jan holiday), Mon 4 (21), Tue 5 Jan (22).
    input = consultation(first_round_within={"days": 22, **WORKING})
    assert input.first_round_deadline == datetime.fromisoformat("2027-01-05T10:00:00-03:00")
    counting = input.first_round_counting
    assert counting is not None
    assert counted(counting) == "22 working days (CL, US holidays)"


def test_working_day_reminders_count_back_over_holidays() -> None:
    input = consultation(first_round_within={"days": 22, **WORKING}, reminder_before={"days": [1, 3], **WORKING})
    d = input.declaration
    plan = rules.deadline_clock(
        input.first_round_deadline, d.reminder_offsets.days, SIGNED, input.calendar, d.reminder_offsets.count
    )
    # 1 working day before Tue 5 Jan is Mon 4 Jan (1 Jan and the weekend skipped); 3 before is Wed 30 Dec.
    assert [(e.kind.value, e.days_before, e.at.date()) for e in plan] == [
        ("reminder", 3, date(2026, 12, 30)),
        ("reminder", 1, date(2027, 1, 4)),
        ("escalation", 0, date(2027, 1, 5)),
    ]


def test_a_calendar_day_deadline_on_a_holiday_moves_to_the_next_common_working_day() -> None:
    # 24 calendar days after 1 Dec is Fri 25 Dec: moved past the weekend to Mon 28 Dec. The
    # approval window counts working days, so the consultation has the parties' calendar.
    input = consultation(first_round_within={"days": 24}, approval_within={"days": 5, **WORKING})
    assert input.first_round_deadline == datetime.fromisoformat("2026-12-28T10:00:00-03:00")
    # A calendar-day deadline on a plain weekend stays there: 26 days is Sun 27 Dec.
    input = consultation(first_round_within={"days": 26}, approval_within={"days": 5, **WORKING})
    assert input.first_round_deadline == datetime.fromisoformat("2026-12-27T10:00:00-03:00")


def test_calendar_day_declarations_need_no_calendar_and_keep_their_arithmetic() -> None:
    d = declaration(first_round_within_days=15)
    assert working_calendar(d, SIGNED.date()) is None
    input = ConsultationInput(declaration=d)
    assert input.first_round_deadline == d.first_round_deadline == SIGNED + timedelta(days=15)
    assert input.first_round_counting is None
    # The new key, counting calendar days, gives the same date and says how it was counted.
    d = declaration(first_round_within={"days": 15})
    assert ConsultationInput(declaration=d).first_round_deadline == SIGNED + timedelta(days=15)
    assert d.first_round_within_days == 15


def test_explicit_calendar_with_a_subdivision() -> None:
    parties = declaration().model_dump(mode="json")["parties"]
    parties[1]["calendar"] = {"country": "US", "subdiv": "DC"}
    parties[0]["calendar"] = "CL"
    calendar = consultation(first_round_within={"days": 10, **WORKING}, parties=parties).calendar
    assert calendar is not None and calendar.calendars == ["CL", "US-DC"]
    assert date(2027, 4, 16) in calendar.holidays  # DC Emancipation Day


@pytest.mark.parametrize("code", ["XX", "EU"])
def test_a_party_without_known_holidays_is_refused_only_when_working_days_count(code: str) -> None:
    parties = declaration().model_dump(mode="json")["parties"]
    parties[1]["code"] = code
    with pytest.raises(UnknownCalendar, match=f"party {code}: no public holidays are known .* add `calendar:`"):
        consultation(first_round_within={"days": 10, **WORKING}, parties=parties)
    assert working_calendar(declaration(parties=parties), SIGNED.date()) is None


def test_old_and_new_keys_must_agree() -> None:
    with pytest.raises(ValueError, match="give either first_round_within_days or first_round_within, not both"):
        declaration(first_round_within_days=12, first_round_within={"days": 10, **WORKING})
    d = declaration(first_round_within={"days": 10, **WORKING}, reminder_before={"days": [1, 5], **WORKING})
    # What the workflow decodes from history is the same declaration.
    assert Declaration.model_validate_json(d.model_dump_json()) == d
    assert d.reminder_days_before == [5, 1]


def test_past_the_recorded_span_only_weekends_are_skipped() -> None:
    calendar = WorkingCalendar(calendars=["CL"], first_day=date(2026, 1, 1), last_day=date(2026, 1, 31))
    start = datetime.fromisoformat("2026-12-24T09:00:00+00:00")  # Thursday
    assert calendar.add(start, 2, Count.WORKING_DAYS).date() == date(2026, 12, 28)

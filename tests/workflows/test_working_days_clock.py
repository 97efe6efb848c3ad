"""A consultation counting working days, on the time-skipping server with a real worker, real SMTP and the real CLI.

The calendar is written by hand around the test server's clock (it starts "now"): no weekend,
holidays on days 2, 3 and 6 after the signature. Five working days are then days 1, 4, 5, 7
and 8: the deadline is day 8; reminders 3 and 1 working days before fall on days 4 and 7.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations.consultations import start
from schemas.working_days import WorkingCalendar
from tests.helpers import body, make_declaration, notices_of, running_worker
from tests.helpers.cli import Consult, write_declaration
from workflows.consultation import Consultation

pytestmark = pytest.mark.asyncio(loop_scope="session")
DAY = timedelta(days=1)
WORKING = {"count": "working_days"}


async def test_deadline_and_reminders_in_working_days(time_env: WorkflowEnvironment, outbox: Outbox) -> None:
    signed_at = await time_env.get_current_time()
    declaration = make_declaration(
        signed_at,
        first_round_within={"days": 5, **WORKING},
        reminder_before={"days": [3, 1], **WORKING},
    )
    first = signed_at.date()
    calendar = WorkingCalendar(
        calendars=["CL", "US"],
        first_day=first,
        last_day=first + 365 * DAY,
        weekend=[],
        holidays=[first + n * DAY for n in (2, 3, 6)],
    )
    async with running_worker(time_env.client, outbox) as task_queue:
        handle = await start(time_env.client, declaration, task_queue, calendar)
        await time_env.sleep(9 * DAY)
        status = await handle.query(Consultation.status)
        shown = await Consult(time_env.client, task_queue)("status", declaration.id)

    assert status.first_round_deadline == signed_at + 8 * DAY
    assert status.first_round_counting is not None and status.first_round_counting.days == 5
    days = {
        kind: [round((n.issued_at - signed_at) / DAY, 3) for n in status.notices if n.kind == kind]
        for kind in ("opened", "reminder", "escalation")
    }
    assert days == {"opened": [0.0], "reminder": [4.0, 7.0], "escalation": [8.0]}
    deadline = (signed_at + 8 * DAY).strftime("%Y-%m-%d %H:%M")
    assert shown.exit_code == 0, shown.output
    assert f"5 working days (CL, US holidays) → {deadline}" in shown.stdout

    opened = notices_of(outbox, declaration.id, "opened")
    english = next(m for m in opened if m["Content-Language"] == "en")
    spanish = next(m for m in opened if m["Content-Language"] == "es")
    assert "5 working days (CL, US holidays) → " in body(english, "plain")
    assert "5 días hábiles (feriados de CL, US) → " in body(spanish, "plain")


async def test_unknown_party_calendar_is_refused_at_start(time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    signed_at = await time_env.get_current_time()
    data = make_declaration(signed_at).model_dump(mode="json", exclude_none=True)
    data["parties"][1]["code"] = "XX"
    consult = Consult(time_env.client, "no-worker-needed")
    calendar_days = await consult("start", str(write_declaration(tmp_path, {**data, "id": data["id"] + "-c"})))
    data["first_round_within"] = {"days": 10, **WORKING}
    del data["first_round_within_days"]
    result = await consult("start", str(write_declaration(tmp_path, data)))
    assert result.exit_code == 2, result.output
    assert "party XX: no public holidays are known for country XX" in result.stderr
    assert "add `calendar:` to the party" in result.stderr
    # A calendar-day declaration needs no calendar: it gets past the check (to the missing worker).
    assert "no public holidays" not in calendar_days.output

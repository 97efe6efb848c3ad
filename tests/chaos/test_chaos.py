"""The fast part of the chaos suite, inside `make test`: each fault once, on real processes.

The full run (20+ kills, a 60 s SMTP outage, a 1,000+ recipient notice killed mid-send, hostile input)
is `make chaos` (`python -m tests.chaos`).
"""

from __future__ import annotations

import pytest

from tests.chaos import scenarios
from tests.chaos.scenarios import Row
from tests.chaos.stack import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session")]


def clean(row: Row) -> bool:
    """True when nothing was lost, duplicated, stalled or answered wrongly; the table says what was."""
    assert row.ok, "\n" + scenarios.table([row]) + "\n" + scenarios.problems([row])
    return True


async def test_a_worker_killed_mid_lifecycle_the_other_finishes_it(stack: Stack) -> None:
    assert clean(await scenarios.one_worker_killed(stack))


async def test_mail_down_mid_round_holds_nothing_up_and_every_notice_arrives_once(stack: Stack) -> None:
    assert clean(await scenarios.smtp_outage(stack, seconds=8, step_bound=8, conclude=False))


async def test_temporal_restarted_mid_round_pages_say_503_then_everything_recovers(stack: Stack) -> None:
    assert clean(await scenarios.temporal_restart(stack, down=4, conclude=False))

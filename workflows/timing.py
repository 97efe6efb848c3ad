"""Waiting inside a workflow for a moment that an operator's action may make moot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow


async def wait_until(at: datetime, interrupted: Callable[[], bool], summary: str) -> bool:
    """True when `at` arrives, False if `interrupted()` becomes true first.

    A moment already past arrives at once (a clock started late fires what is due).
    The timer carries `summary`, so the Temporal UI says what it waits for.
    """
    delay = at - workflow.now()
    if delay <= timedelta(0):
        return not interrupted()
    try:
        await workflow.wait_condition(interrupted, timeout=delay, timeout_summary=summary)
    except TimeoutError:
        return True
    return False

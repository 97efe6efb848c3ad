"""Turning a refused request into the failure Temporal reports to the caller of an update."""

from __future__ import annotations

from collections.abc import Callable

from temporalio.exceptions import ApplicationError

from workflows.rules import RequestRefused


def refuse_unless(check: Callable[[], None]) -> None:
    """Run from an update validator: a refusal reaches the caller with its message, and nothing is recorded."""
    try:
        check()
    except RequestRefused as refused:
        raise ApplicationError(str(refused), type="RequestRefused", non_retryable=True) from None

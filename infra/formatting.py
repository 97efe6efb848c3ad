"""Time zones and the operators' compact date format: pure functions shared by the CLI, the gateway, activities
and workflows.

Workflows import this module inside the sandbox (it is not passed through), so it
must stay pure: no clock, no environment, no files. Dates in a reader's language
(which read Babel's locale data from files) are `infra.i18n.Words.when`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def display_tz(signed_at: datetime) -> timezone:
    """The zone every date of a consultation is shown in: the one its declaration was signed in."""
    offset = signed_at.utcoffset() or timedelta(0)
    return timezone(offset)


def fmt(when: datetime, tz: timezone) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")

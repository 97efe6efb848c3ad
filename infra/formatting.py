"""Dates and time zones as people read them: pure functions shared by the CLI, the gateway, activities and workflows.

Workflows import this module inside the sandbox (it is not passed through), so it
must stay pure: no clock, no environment, no files.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas.declaration import Locale


def display_tz(signed_at: datetime) -> timezone:
    """The zone every date of a consultation is shown in: the one its declaration was signed in."""
    offset = signed_at.utcoffset() or timedelta(0)
    return timezone(offset)


def fmt(when: datetime, tz: timezone) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")


_MONTHS = {
    Locale.EN: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    Locale.ES: [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


def format_when(when: datetime, tz: timezone, locale: Locale) -> str:
    local = when.astimezone(tz)
    offset = local.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    month = _MONTHS[locale][local.month - 1]
    if locale == Locale.ES:
        return f"{local.day} de {month} de {local.year}, {local:%H:%M} ({utc})"
    return f"{month} {local.day}, {local.year}, {local:%H:%M} ({utc})"

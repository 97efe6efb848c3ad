"""What a person may send: sizes, characters and dates a person would expect, and the rules that hold them.

The limits apply where something is *sent* — a declaration file read by the CLI, a request built by the
CLI or the gateway (pydantic's python mode: constructors, `model_validate`) — and not where a payload
Temporal recorded earlier is *read back* (the data converter decodes with `validate_json`, JSON mode).
A consultation started before a limit existed must still replay: a history that holds a 400-character
title or a name with a line break decodes as it was accepted, while no new one can be sent.
`tests/schemas/test_limits.py` pins both halves.

Errors use pydantic's own types where one fits (`string_too_long`, `too_long`, with `max_length` in their
context) so every edge words them the way it already words pydantic's; the others have types of their own
(`control_character`, `date_out_of_range`, `not_a_date`, `too_large`).
"""

from __future__ import annotations

import re
from collections.abc import Sized
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

# --- text, in characters -------------------------------------------------------------
MAX_TITLE = 300  # the longest treaty titles run to some 200 characters
MAX_NAME = 200  # a person's, a party's or a secretariat's name
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_REASON = 2_000  # why a deadline moves, why inputs close early, why a consultation is withdrawn
MAX_COMMENT = 10_000  # an approver's comment when requesting changes or declining: a few pages
MAX_SUMMARY = 20_000  # a party's summary of its input on one pillar
MAX_ITEM_TEXT = 4_000  # one cell of a pillar input (a risk, a measure, a project's name)
MAX_SHA256 = 64  # the fingerprint a decision names

# --- counts and sizes ----------------------------------------------------------------------
MAX_PARTIES = 200  # every UN member state, with room; the parties search attribute holds 2,048 bytes
MAX_ITEMS = 200  # items in one pillar input (the gateway's form offers as many rows)
# A declaration as recorded (JSON): it is the input of the consultation and of every round, and
# Temporal refuses a payload above 2 MB. 1 MiB holds some 10,000 counterparts.
MAX_DECLARATION_BYTES = 1024 * 1024
# A file the CLI reads (declaration, pillar input): above this it could never reach Temporal, whose
# messages stop at 4 MB; below it every field is checked and the one too long is named.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NESTING = 32  # levels of mappings and lists in a file: a declaration needs 5
MAX_VALUES = 200_000  # keys, values and lists in a file: 1 MiB of declaration holds some 80,000

# --- dates -----------------------------------------------------------------------------------
EARLIEST_YEAR = 2000
LATEST_YEAR = 2099

_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Multi-line text keeps line breaks and tabs, nothing else below the space.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_A_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def sent_now(info: ValidationInfo) -> bool:
    """True when validating what someone sends now; False when decoding what Temporal recorded (JSON mode)."""
    return info.mode != "json"


def check_text(value: str, *, limit: int, multiline: bool) -> str:
    if len(value) > limit:
        raise PydanticCustomError(
            "string_too_long", "String should have at most {max_length} characters", {"max_length": limit}
        )
    found = (_NOT_TEXT if multiline else _NOT_ONE_LINE).search(value)
    if found:
        what = "line breaks, tabs or other control characters" if not multiline else "control characters"
        raise PydanticCustomError(
            "control_character",
            "must not contain {what} (found {char} at character {position})",
            {"what": what, "char": repr(found.group()), "position": found.start() + 1},
        )
    return value


def one_line(limit: int) -> AfterValidator:
    """A single-line field (a title, a name): no line breaks or other control characters, at most `limit`."""

    def check(value: str, info: ValidationInfo) -> str:
        return check_text(value, limit=limit, multiline=False) if sent_now(info) else value

    return AfterValidator(check)


def text(limit: int) -> AfterValidator:
    """Free text (a reason, a comment, a summary): line breaks and tabs allowed, no other control character."""

    def check(value: str, info: ValidationInfo) -> str:
        return check_text(value, limit=limit, multiline=True) if sent_now(info) else value

    return AfterValidator(check)


def at_most(limit: int) -> AfterValidator:
    """A list of at most `limit` entries, for what is sent now."""

    def check(value: Sized, info: ValidationInfo) -> Any:
        if sent_now(info) and len(value) > limit:
            raise PydanticCustomError(
                "too_long",
                "List should have at most {max_length} items, not {actual_length}",
                {"max_length": limit, "actual_length": len(value)},
            )
        return value

    return AfterValidator(check)


def too_large(what: str, size: int, limit: int) -> PydanticCustomError:
    return PydanticCustomError(
        "too_large",
        "{what} is {size} bytes; the limit is {limit}",
        {"what": what, "size": f"{size:,}", "limit": f"{limit:,} bytes"},
    )


def _not_a_number(value: Any) -> Any:
    """Dates are ISO 8601 text; pydantic would read 0 or "1764200000" as seconds since 1970."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _A_NUMBER.fullmatch(value)):
        raise PydanticCustomError(
            "not_a_date",
            "must be an ISO 8601 date and time with an offset, such as 2026-11-27T10:00:00-03:00, not a number",
        )
    return value


def _in_range(value: datetime, info: ValidationInfo) -> datetime:
    if sent_now(info) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "date_out_of_range",
            "must fall between the years {earliest} and {latest}",
            {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
        )
    return value


# A date and time a person writes or sends: ISO 8601 with an offset, in this century.
WrittenDate = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_range)]

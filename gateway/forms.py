"""The pillar-input form, read and written back: pure functions, no server, no Temporal.

A form keeps what a person typed (rows of strings); an item is what the pillar-input
model validates. `as_row` turns an item into a row to edit, `as_item` a row into an item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from infra.i18n import N_, SOURCE, Plural, Words
from schemas.declaration import Pillar
from schemas.pillar_inputs import ITEM_MODELS

MAX_ROWS = 200  # items in one pillar input; a form cannot ask for more
NUMBER_FIELDS = {"estimated_investment_usd", "amount_usd", "volume_tonnes_per_year", "public_share_pct"}
# The largest form a page offers: MAX_ROWS rows of the widest pillar, plus summary, rows, revision and action.
# Starlette refuses more than 1,000 fields by default, which a 200-row strategic-projects form exceeds.
FORM_FIELDS = ("summary", "rows", "revision", "action")
MAX_FORM_FIELDS = MAX_ROWS * max(len(model.model_fields) for model in ITEM_MODELS.values()) + len(FORM_FIELDS)
# A posted form's body, however encoded: far more than a person types into one form (a full form of
# 200 rows of real projects is some 200 KB), small enough that a hostile post costs little to refuse.
MAX_FORM_BYTES = 4 * 1024 * 1024
# ASCII digits only, and few of them: int() also reads "²"-like digits as errors and 4,300+ digits raise.
_COUNT = re.compile(r"[0-9]{1,4}")
_REMOVE = re.compile(r"remove-([0-9]{1,4})")

Row = dict[str, str]


class MalformedForm(ValueError):
    """A post that no page of ours makes: a row count, a button or a field that the form does not have."""


@dataclass
class InputForm:
    """One post of a pillar's form: what was typed, and which button was pressed."""

    summary: str
    rows: list[Row]
    action: str  # "submit", "add", or "remove-<index>"
    # The party's revision of the pillar when the form was opened (0: none yet); None if not said.
    revision: int | None = None

    @property
    def removed_row(self) -> int | None:
        remove = _REMOVE.fullmatch(self.action)
        return int(remove[1]) if remove else None

    def with_row_added(self) -> list[Row]:
        return [*self.rows, {}][:MAX_ROWS]

    def without_removed_row(self) -> list[Row]:
        return [r for i, r in enumerate(self.rows) if i != self.removed_row]

    def payload(self, party: str, pillar: Pillar, author: str) -> dict[str, Any]:
        """What the pillar-input model validates; rows left blank are not items."""
        items = [as_item(row) for row in self.rows if any(v.strip() for v in row.values())]
        return {"party": party, "pillar": pillar.value, "author": author, "summary": self.summary, "items": items}


def fields_of(pillar: Pillar) -> list[str]:
    return list(ITEM_MODELS[pillar].model_fields)


def parse_input_form(form: Mapping[str, Any], pillar: Pillar) -> InputForm:
    """Read a posted form; MalformedForm if it is not one the page makes (the page says so, a 400)."""
    rows_field = _text(form, "rows", "0")
    if not _COUNT.fullmatch(rows_field) or int(rows_field) > MAX_ROWS:
        raise MalformedForm("rows")
    count = int(rows_field)
    action = _text(form, "action", "submit")
    remove = _REMOVE.fullmatch(action)
    if action not in ("submit", "add") and not (remove and int(remove[1]) < count):
        raise MalformedForm("action")
    revision = _text(form, "revision")
    if revision and not _COUNT.fullmatch(revision):
        raise MalformedForm("revision")
    fields = fields_of(pillar)
    rows = [{f: _text(form, f"items-{i}-{f}") for f in fields} for i in range(count)]
    return InputForm(_text(form, "summary"), rows, action, int(revision) if revision else None)


def _text(form: Mapping[str, Any], name: str, default: str = "") -> str:
    """A field's text; a file where text belongs is not something the page sends."""
    value = form.get(name, default)
    if not isinstance(value, str):
        raise MalformedForm(name)
    return value


def as_row(item: dict[str, Any]) -> Row:
    return {
        # Floats as typed (1200000000, not 1.2e+09): the form shows them back to be edited.
        k: ", ".join(v) if isinstance(v, list) else f"{v:f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
        for k, v in item.items()
    }


def as_item(row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {k: v.strip() for k, v in row.items()}
    if "minerals" in item:
        item["minerals"] = [m.strip() for m in item["minerals"].split(",") if m.strip()]
    for field in NUMBER_FIELDS & item.keys():
        item[field] = plain_number(item[field])
    return item


def plain_number(text: str) -> str:
    """A number as people type it, in either convention: 1.200.000,50 / 1,200,000.50 / 60,5 -> 1200000.50, 60.5."""
    text = "".join(text.split()).replace("\u00a0", "")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return text.replace(thousands, "").replace(decimal, ".")
    for sep in (",", "."):
        if sep in text:
            head, _, tail = text.rpartition(sep)
            # One separator followed by exactly three digits groups thousands; otherwise it marks decimals.
            if text.count(sep) > 1 or (len(tail) == 3 and tail.isdigit() and head.replace(sep, "").isdigit()):
                return text.replace(sep, "")
            return text.replace(sep, ".")
    return text


# What a field's error says, by pydantic's error type; the limits come from its context (`ge`, `max_length`).
FIELD_ERRORS = {
    "missing": N_("This field is required."),
    "float_parsing": N_("Please write a number, such as 1200000 or 12.5."),
    "float_type": N_("Please write a number, such as 1200000 or 12.5."),
    "finite_number": N_("Please write a finite number."),
    "greater_than_equal": N_("Should be greater than or equal to {ge}."),
    "less_than_equal": N_("Should be less than or equal to {le}."),
    "control_character": N_("This text contains control characters; please remove them."),
}
LENGTH_ERRORS = {
    "string_too_short": Plural("Should have at least {n} character.", "Should have at least {n} characters."),
    "string_too_long": Plural("Should have at most {n} character.", "Should have at most {n} characters."),
    "too_short": Plural("Should name at least {n} item.", "Should name at least {n} items."),
    "too_long": Plural("Should name at most {n} item.", "Should name at most {n} items."),
}


def field_errors(error: ValidationError, words: Words | None = None) -> dict[str, str]:
    """`summary` or `items.<i>.<field>` -> message in the reader's language, beside the field they typed in."""
    words = words or Words(SOURCE)
    errors: dict[str, str] = {}
    for e in error.errors(include_url=False):
        loc = [str(part) for part in e["loc"]]
        if loc and loc[0] in {p.value for p in Pillar}:
            loc = loc[1:]  # the union's tag, not a field
        if len(loc) > 3 and loc[0] == "items":
            loc = loc[:3]  # a mineral inside the minerals list: show it on the list's field
        errors.setdefault(".".join(loc), _error_message(e, loc[-1] if loc else "", words))
    return errors


def _error_message(e: ErrorDetails, field: str, words: Words) -> str:
    context = e.get("ctx", {})
    if e["type"] in FIELD_ERRORS:
        limits = {k: words.amount(v) for k, v in context.items() if k in ("ge", "le")}
        return words.gettext(FIELD_ERRORS[e["type"]], **limits)
    if e["type"] in LENGTH_ERRORS:
        length = LENGTH_ERRORS[e["type"]]
        limit = int(context.get("min_length", context.get("max_length", 0)))
        return words.ngettext(length.singular, length.plural, limit)
    if e["type"] == "value_error" and field in ("mineral", "minerals"):
        # schemas.minerals words its refusal in English: `'x' is not on ...; did you mean lithium, tin?`.
        # The suggestions are canonical (English) names, so each is named again in the reader's language.
        suggested = str(context.get("error", "")).partition("; did you mean ")[2].removesuffix("?")
        message = words.gettext("'{name}' is not on the critical minerals list.", name=e["input"])
        if suggested:
            names = ", ".join(words.mineral(name) for name in suggested.split(", "))
            message += " " + words.gettext("Did you mean {names}?", names=names)
        return message
    return words.gettext("This value is not valid.")

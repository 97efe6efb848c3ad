"""The pillar-input form, read and written back: pure functions, no server, no Temporal.

A form keeps what a person typed (rows of strings); an item is what the pillar-input
model validates. `as_row` turns an item into a row to edit, `as_item` a row into an item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.declaration import Pillar
from schemas.pillar_inputs import ITEM_MODELS

MAX_ROWS = 200  # items in one pillar input; a form cannot ask for more
NUMBER_FIELDS = {"estimated_investment_usd", "amount_usd", "volume_tonnes_per_year", "public_share_pct"}

Row = dict[str, str]


@dataclass
class InputForm:
    """One post of a pillar's form: what was typed, and which button was pressed."""

    summary: str
    rows: list[Row]
    action: str  # "submit", "add", or "remove-<index>"

    @property
    def removed_row(self) -> int | None:
        index = self.action.removeprefix("remove-")
        return int(index) if self.action.startswith("remove-") and index.isdigit() else None

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
    """Read a posted form; a row count it cannot read, or beyond MAX_ROWS, is cut down."""
    rows_field = str(form.get("rows", "0"))
    count = min(int(rows_field), MAX_ROWS) if rows_field.isdigit() else 0
    fields = fields_of(pillar)
    rows = [{f: str(form.get(f"items-{i}-{f}", "")) for f in fields} for i in range(count)]
    return InputForm(str(form.get("summary", "")), rows, str(form.get("action", "submit")))


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


def field_errors(error: ValidationError) -> dict[str, str]:
    """`summary` or `items.<i>.<field>` -> message, to show beside the field the person typed in."""
    errors: dict[str, str] = {}
    for e in error.errors(include_url=False):
        loc = [str(part) for part in e["loc"]]
        if loc and loc[0] in {p.value for p in Pillar}:
            loc = loc[1:]  # the union's tag, not a field
        if len(loc) > 3 and loc[0] == "items":
            loc = loc[:3]  # a mineral inside the minerals list: show it on the list's field
        errors.setdefault(".".join(loc), e["msg"].removeprefix("Value error, "))
    return errors

"""The pillar-input form read and written back, without a server: what a person typed is what they see again."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from gateway.forms import (
    MAX_FORM_FIELDS,
    MAX_ROWS,
    MalformedForm,
    as_item,
    as_row,
    field_errors,
    fields_of,
    parse_input_form,
)
from schemas.declaration import Pillar
from schemas.pillar_inputs import PILLAR_INPUT


def test_a_posted_form_is_read_into_rows_and_an_action() -> None:
    form = parse_input_form(
        {
            "rows": "2",
            "summary": "Blended",
            "items-0-instrument": "Guarantee",
            "items-0-amount_usd": "1.200.000,50",
            "items-1-instrument": "Loan",
            "action": "remove-0",
        },
        Pillar.FINANCING,
    )
    assert form.summary == "Blended" and form.removed_row == 0
    assert form.rows[0] == {"instrument": "Guarantee", "amount_usd": "1.200.000,50", "public_share_pct": ""}
    assert form.without_removed_row() == [{"instrument": "Loan", "amount_usd": "", "public_share_pct": ""}]
    assert len(form.with_row_added()) == 3


@pytest.mark.parametrize(
    "form",
    [
        {"rows": "many"},
        {"rows": "-1"},
        {"rows": "²"},  # a digit to str.isdigit, not to int()
        {"rows": "9" * 5000},  # beyond int()'s 4,300 digits
        {"rows": str(MAX_ROWS + 1)},
        {"rows": "1", "action": "remove-x"},
        {"rows": "1", "action": "remove-" + "9" * 5000},
        {"rows": "1", "action": "remove-1"},  # no such row on the form
        {"rows": "0", "action": "publish"},
        {"rows": "0", "summary": UploadFile(BytesIO(b"text"), filename="summary.txt")},
    ],
)
def test_a_form_no_page_sends_is_refused(form: dict[str, object]) -> None:
    with pytest.raises(MalformedForm):
        parse_input_form(form, Pillar.FINANCING)


def test_the_largest_form_stays_the_largest() -> None:
    form = parse_input_form({"rows": str(MAX_ROWS), "action": "add"}, Pillar.FINANCING)
    assert len(form.rows) == MAX_ROWS and len(form.with_row_added()) == MAX_ROWS
    widest = max(len(fields_of(pillar)) for pillar in Pillar)
    assert MAX_ROWS * widest + len(["summary", "rows", "revision", "action"]) == MAX_FORM_FIELDS


def test_items_and_rows_convert_both_ways() -> None:
    item = as_item({"name": " Salar ", "minerals": "lithium, copper,", "estimated_investment_usd": "1,200,000,000"})
    assert item == {"name": "Salar", "minerals": ["lithium", "copper"], "estimated_investment_usd": "1200000000"}
    assert as_row({"minerals": ["lithium", "copper"], "estimated_investment_usd": 1.2e9, "public_share_pct": 60.5}) == {
        "minerals": "lithium, copper",
        "estimated_investment_usd": "1200000000",
        "public_share_pct": "60.5",
    }


def test_validation_errors_land_beside_the_field_typed_in() -> None:
    form = parse_input_form(
        {"rows": "1", "summary": "", "items-0-instrument": "Guarantee", "items-0-amount_usd": "-1"},
        Pillar.FINANCING,
    )
    with pytest.raises(ValidationError) as raised:
        PILLAR_INPUT.validate_python(form.payload("CL", Pillar.FINANCING, "vrojas@minrel.example"))
    errors = field_errors(raised.value)
    assert {"summary", "items.0.amount_usd", "items.0.public_share_pct"} <= errors.keys()
    assert "greater than or equal to 0" in errors["items.0.amount_usd"]

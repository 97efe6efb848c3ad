"""What a person may send, and what Temporal recorded before these limits existed.

Limits and characters are checked where something is sent (a declaration file, a request the CLI
or the gateway builds); a payload read back from a history decodes as it was accepted then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from consult.files import InputFileError, describe_errors, load_declaration, load_pillar_input
from schemas import limits
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import ConsultationInput, ExtendDeadlineRequest, OpenRoundRequest, WithdrawRequest
from schemas.declaration import Declaration, Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import CloseRoundRequest, SubmitInputRequest
from tests.helpers import CL_OPERATOR, declaration_data

SIGNED = "2026-11-27T10:00:00-03:00"
LATER = "2026-12-10T10:00:00-03:00"


def refused(tmp_path: Path, data: dict[str, Any], name: str = "d.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    with pytest.raises(InputFileError) as error:
        load_declaration(path)
    return str(error.value)


def problems(model: type[Any], **fields: Any) -> str:
    with pytest.raises(ValidationError) as error:
        model(**fields)
    return "\n".join(describe_errors(error.value))


# --- 1. control characters -----------------------------------------------------------------


def test_a_block_scalar_title_is_refused_naming_the_field(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    del data["title"]
    path = tmp_path / "d.yaml"
    path.write_text("title: |\n  Joint Declaration\n  on Critical Minerals\n" + yaml.safe_dump(data))
    with pytest.raises(InputFileError) as error:
        load_declaration(path)
    message = str(error.value)
    assert "title: must not contain line breaks, tabs or other control characters (found '\\n' at character 18)" in (
        message
    )


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (("title",), "title"),
        (("id",), "id"),
        (("parties", 0, "name"), "parties.0.name"),
        (("parties", 0, "counterparts", 0, "name"), "parties.0.counterparts.0.name"),
        (("parties", 1, "counterparts", 0, "email"), "parties.1.counterparts.0.email"),
        (("operators", 0, "name"), "operators.0.name"),
    ],
)
@pytest.mark.parametrize("bad", ["\r\nBcc: x@evil.example", "\x00", "\x1b[31m", "\x85", "\u2028", "\t"])
def test_single_line_fields_refuse_control_characters(
    tmp_path: Path, where: tuple[str | int, ...], field: str, bad: str
) -> None:
    data = declaration_data(SIGNED)
    *path, last = where
    node: Any = data
    for step in path:
        node = node[step]
    node[last] = f"{node[last]}{bad}" if last != "email" else f"mturner{bad}@state.example"
    message = refused(tmp_path, data)
    assert f"{field}: must not contain line breaks, tabs or other control characters (found {bad[0]!r}" in message


def test_multi_line_text_keeps_line_breaks_but_no_other_control_character() -> None:
    reason = "Ministers' agendas:\r\n- Chile\n- US\twith tabs"
    assert WithdrawRequest(reason=reason, requested_by=CL_OPERATOR).reason == reason
    message = problems(WithdrawRequest, reason="Superseded\x00", requested_by=CL_OPERATOR)
    assert "reason: must not contain control characters (found '\\x00' at character 11)" in message
    message = problems(
        DecisionRequest, approver=CL_OPERATOR, decision=Decision.REQUEST_CHANGES, sha256="a" * 64,
        comment="see \x1b[2J", recorded_by=CL_OPERATOR,
    )  # fmt: skip
    assert "comment: must not contain control characters (found '\\x1b'" in message
    summary_input = {"party": "CL", "pillar": "financing", "author": CL_OPERATOR, "summary": "ok\x07", "items": []}
    with pytest.raises(ValidationError) as error:
        PILLAR_INPUT.validate_python(summary_input)
    assert "must not contain control characters (found '\\x07'" in str(error.value)


# --- 7. sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "limit"),
    [
        (("title",), limits.MAX_TITLE),
        (("parties", 0, "name"), limits.MAX_NAME),
        (("parties", 0, "counterparts", 0, "name"), limits.MAX_NAME),
        (("operators", 0, "name"), limits.MAX_NAME),
    ],
)
def test_declaration_text_has_a_limit_named_in_the_error(
    tmp_path: Path, where: tuple[str | int, ...], limit: int
) -> None:
    data = declaration_data(SIGNED)
    *path, last = where
    node: Any = data
    for step in path:
        node = node[step]
    node[last] = "x" * limit
    Declaration.model_validate(data)  # at the limit: accepted
    node[last] = "x" * (limit + 1)
    field = ".".join(str(part) for part in where)
    message = refused(tmp_path, data)
    assert f"{field}: String should have at most {limit} characters (got 'xxxx" in message
    assert f"… ({limit + 1:,} characters))" in message  # what was given, cut short


def test_a_3_mb_title_is_named_and_cut_short_in_the_message(tmp_path: Path) -> None:
    data = declaration_data(SIGNED, title="x" * 3_000_000)
    message = refused(tmp_path, data)
    assert "title: String should have at most 300 characters" in message and len(message) < 400


def test_reasons_and_comments_have_limits() -> None:
    at_limit = "r" * limits.MAX_REASON
    assert CloseRoundRequest(reason=at_limit, requested_by=CL_OPERATOR).reason == at_limit
    for model in (CloseRoundRequest, WithdrawRequest):
        message = problems(model, reason=at_limit + "r", requested_by=CL_OPERATOR)
        assert f"reason: String should have at most {limits.MAX_REASON} characters" in message
    message = problems(ExtendDeadlineRequest, until=LATER, reason=at_limit + "r", requested_by=CL_OPERATOR)
    assert f"reason: String should have at most {limits.MAX_REASON} characters" in message
    message = problems(
        DecisionRequest, approver=CL_OPERATOR, decision=Decision.REQUEST_CHANGES, sha256="a" * 64,
        comment="c" * (limits.MAX_COMMENT + 1), recorded_by=CL_OPERATOR,
    )  # fmt: skip
    assert f"comment: String should have at most {limits.MAX_COMMENT} characters" in message


def test_at_most_200_parties(tmp_path: Path) -> None:
    """340 parties once made the ConsultationParties search attribute exceed Temporal's 2,048 bytes."""
    data = declaration_data(SIGNED)
    template = data["parties"][1]
    codes = [f"{a}{b}{c}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJ" for c in "ABCD"][:340]
    data["parties"] = [
        {**template, "code": code, "counterparts": [{**template["counterparts"][0], "email": f"m@{code}.example"}]}
        for code in codes
    ]
    assert "parties: List should have at most 200 items, not 340" in refused(tmp_path, data)
    data["parties"] = data["parties"][: limits.MAX_PARTIES]
    assert len(Declaration.model_validate(data).parties) == limits.MAX_PARTIES


def test_a_declaration_is_at_most_1_mib_as_recorded(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    lead = data["parties"][1]["counterparts"][0]
    many = [{**lead, "name": "n" * 150, "email": f"lead{i}@state.example"} for i in range(6_000)]
    data["parties"][1]["counterparts"] = many
    assert "(top level): the declaration, as recorded, is 1," in (message := refused(tmp_path, data))
    assert "bytes; the limit is 1,048,576 bytes" in message


def test_pillar_inputs_have_at_most_200_items(tmp_path: Path) -> None:
    item = {"instrument": "Loan", "amount_usd": 1, "public_share_pct": 50}
    path = tmp_path / "financing.json"
    path.write_text(json.dumps({"author": CL_OPERATOR, "summary": "s", "items": [item] * (limits.MAX_ITEMS + 1)}))
    with pytest.raises(InputFileError, match="items: List should have at most 200 items, not 201"):
        load_pillar_input(path, party="CL", pillar=Pillar.FINANCING, author=None)


# --- 9. dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["0", "1764200000", 1764200000, 1764200000.5, " 1764200000 "])
def test_a_date_is_never_a_number(tmp_path: Path, number: str | int | float) -> None:
    message = refused(tmp_path, declaration_data(SIGNED) | {"signed_at": number})
    assert "signed_at: must be an ISO 8601 date and time with an offset, such as 2026-11-27T10:00:00-03:00" in message
    message = problems(OpenRoundRequest, meeting_at=number, inputs_due=LATER, requested_by=CL_OPERATOR)
    assert "meeting_at: must be an ISO 8601 date and time" in message


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "1999-12-31T23:59:00-03:00", "9999-12-31T23:59:59-14:00"]
)
def test_dates_fall_in_this_century(tmp_path: Path, moment: str) -> None:
    """Year 1 at +14:00 is before year 1 in UTC: Python could not convert it (OverflowError)."""
    message = refused(tmp_path, declaration_data(SIGNED) | {"signed_at": moment})
    assert "signed_at: must fall between the years 2000 and 2099" in message


# --- recorded histories ------------------------------------------------------------------------


def test_what_temporal_recorded_before_the_limits_still_decodes() -> None:
    """A running consultation must replay: its input and its updates decode as they were accepted."""
    data = declaration_data(SIGNED, title="An old title\nover two lines " + "x" * 1000)
    data["parties"][0]["counterparts"][0]["name"] = "Valentina\r\nBcc: x@evil.example"
    # A payload as the converter writes it (json/plain), holding what was accepted before the limits.
    payload = pydantic_data_converter.payload_converter.to_payloads([{"declaration": data}])[0]
    (input_,) = pydantic_data_converter.payload_converter.from_payloads([payload], [ConsultationInput])
    assert input_.declaration.title.startswith("An old title\n")
    assert input_.declaration.parties[0].counterparts[0].name.startswith("Valentina\r\n")

    update = {
        "approver": CL_OPERATOR,
        "decision": "request_changes",
        "sha256": "a" * 64,
        "comment": "c" * (limits.MAX_COMMENT + 1),
        "recorded_by": CL_OPERATOR,
    }
    payload.data = json.dumps(update).encode()
    (decision,) = pydantic_data_converter.payload_converter.from_payloads([payload], [DecisionRequest])
    assert len(decision.comment) == limits.MAX_COMMENT + 1

    submitted = {
        "input": {"party": "CL", "pillar": "financing", "author": CL_OPERATOR, "summary": "s\x07", "items": []},
        "submitted_by": CL_OPERATOR,
    }
    payload.data = json.dumps(submitted).encode()
    (submission,) = pydantic_data_converter.payload_converter.from_payloads([payload], [SubmitInputRequest])
    assert submission.input.summary == "s\x07"

"""Every rule of the declaration file, as an operator meets it: a file in, a message out."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from consult.files import InputFileError, load_declaration
from schemas.declaration import Declaration, Locale, Pillar
from tests.helpers import declaration_data

SIGNED = "2026-11-27T10:00:00-03:00"
ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, data: Any, name: str = "declaration.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data, allow_unicode=True))
    return path


def refused(tmp_path: Path, data: Any) -> str:
    with pytest.raises(InputFileError) as error:
        load_declaration(write(tmp_path, data))
    return str(error.value)


def test_the_example_declaration_is_valid() -> None:
    d = load_declaration(ROOT / "examples" / "chile-us-2026.yaml")
    assert d.workflow_id == "consultation-cl-us-critical-minerals-2026"
    assert [p.code for p in d.parties] == ["CL", "US"]
    assert d.first_round_deadline.isoformat() == "2026-12-12T10:00:00-03:00"
    assert d.pillars == list(Pillar)


def test_defaults_apply(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    d = load_declaration(write(tmp_path, data))
    assert d.first_round_within_days == 15
    assert d.reminder_days_before == [7, 3, 1]
    assert d.pillars == [Pillar.SUPPLY_CHAIN, Pillar.STRATEGIC_PROJECTS, Pillar.RECYCLING, Pillar.FINANCING]
    assert d.operators[1].locale is Locale.EN and d.operators[0].locale is Locale.ES


def test_unquoted_yaml_timestamp_keeps_its_offset(tmp_path: Path) -> None:
    text = yaml.safe_dump(declaration_data(SIGNED)).replace(f"'{SIGNED}'", SIGNED)
    assert f"signed_at: {SIGNED}" in text
    (tmp_path / "d.yaml").write_text(text)
    d = load_declaration(tmp_path / "d.yaml")
    assert d.signed_at.utcoffset() == timedelta(hours=-3)


def test_json_is_accepted(tmp_path: Path) -> None:
    d = load_declaration(write(tmp_path, declaration_data(SIGNED), "declaration.json"))
    assert d.title.startswith("Joint Declaration")


def test_a_party_code_like_no_stays_a_code(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    text = yaml.safe_dump(data).replace("code: US", "code: NO")
    (tmp_path / "d.yaml").write_text(text)
    assert [p.code for p in load_declaration(tmp_path / "d.yaml").parties] == ["CL", "NO"]


def test_at_least_two_parties(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    data["parties"] = data["parties"][:1]
    assert "parties: List should have at least 2 items" in refused(tmp_path, data)


def test_party_codes_are_unique(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    data["parties"][1]["code"] = "CL"
    data["parties"][1]["counterparts"][0]["email"] = "other@state.example"
    assert "party code CL appears more than once" in refused(tmp_path, data)


@pytest.mark.parametrize("clash", ["counterpart", "operator"])
def test_emails_are_unique(tmp_path: Path, clash: str) -> None:
    data = declaration_data(SIGNED)
    if clash == "counterpart":
        data["parties"][1]["counterparts"][0]["email"] = "VRojas@minrel.example"
    else:
        data["operators"][1] = "mturner@state.example"
    assert "appears more than once" in refused(tmp_path, data)


@pytest.mark.parametrize(("role", "remaining"), [("technical_lead", "approver"), ("approver", "technical_lead")])
def test_every_party_has_a_technical_lead_and_an_approver(tmp_path: Path, role: str, remaining: str) -> None:
    data = declaration_data(SIGNED)
    data["parties"][1]["counterparts"][0]["roles"] = [remaining]
    message = refused(tmp_path, data)
    assert f"parties.1: party US has no counterpart with the role {role}" in message


def test_known_pillars_only(tmp_path: Path) -> None:
    data = declaration_data(SIGNED, pillars=["supply_chain", "tourism"])
    assert (
        "pillars.1: Input should be 'supply_chain', 'strategic_projects', 'recycling' or 'financing' (got 'tourism')"
        in refused(tmp_path, data)
    )


def test_signed_at_must_carry_a_timezone(tmp_path: Path) -> None:
    assert "signed_at: Input should have timezone info" in refused(tmp_path, declaration_data("2026-11-27T10:00:00"))


def test_signed_at_must_be_a_date(tmp_path: Path) -> None:
    assert "signed_at: Input should be a valid datetime" in refused(tmp_path, declaration_data("next friday"))


def test_id_must_be_a_slug(tmp_path: Path) -> None:
    assert "id: must be a slug" in refused(tmp_path, declaration_data(SIGNED, id="Chile US 2026"))


def test_a_misspelt_field_is_named(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    data["parties"][0]["aproval"] = "all"
    assert "parties.0.aproval: Extra inputs are not permitted" in refused(tmp_path, data)


def test_unknown_approval_rule(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    data["parties"][0]["approval"] = "majority"
    assert "parties.0.approval: Input should be 'any' or 'all' (got 'majority')" in refused(tmp_path, data)


def test_bad_email(tmp_path: Path) -> None:
    data = declaration_data(SIGNED)
    data["parties"][0]["counterparts"][0]["email"] = "vrojas at minrel"
    assert "parties.0.counterparts.0.email: 'vrojas at minrel' is not an email address" in refused(tmp_path, data)


def test_reminders_must_fall_inside_the_window(tmp_path: Path) -> None:
    data = declaration_data(SIGNED, first_round_within_days=5, reminder_days_before=[7, 3])
    assert "reminder_days_before [7] must be fewer than first_round_within_days (5)" in refused(tmp_path, data)


def test_missing_required_fields_are_each_named(tmp_path: Path) -> None:
    message = refused(tmp_path, {"id": "x-1"})
    for field in ("title", "signed_at", "operators", "parties"):
        assert f"{field}: Field required" in message


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_declaration(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("id: x\nparties: [\n")
    with pytest.raises(InputFileError, match=r"not valid YAML: line \d+, column \d+"):
        load_declaration(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(InputFileError, match="a declaration is a mapping"):
        load_declaration(tmp_path / "list.yaml")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputFileError, match="not valid JSON"):
        load_declaration(tmp_path / "broken.json")


def test_documents_are_written_in_the_founding_pair_plus_every_language_a_reader_reads() -> None:
    data = declaration_data("2026-11-20T10:00:00-03:00")
    assert Declaration.model_validate(data).document_locales == [Locale.ES, Locale.EN]
    data["parties"][1]["counterparts"].append(
        {"name": "Claire Martin", "email": "cmartin@example.fr", "roles": ["technical_lead"], "locale": "fr"}
    )
    assert Declaration.model_validate(data).document_locales == [Locale.ES, Locale.EN, Locale.FR]

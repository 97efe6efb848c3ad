"""Pillar input files as a technical lead or secretariat writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from consult.files import InputFileError, load_pillar_input
from schemas.declaration import Pillar
from schemas.minerals import canonical_mineral
from schemas.pillar_inputs import FinancingInput, SupplyChainInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "inputs"


@pytest.mark.parametrize("pillar", list(Pillar))
def test_every_example_input_is_valid(pillar: Pillar) -> None:
    loaded = load_pillar_input(EXAMPLES / f"cl-{pillar.value}.yaml", party="CL", pillar=pillar, author=None)
    assert loaded.pillar is pillar and loaded.party == "CL" and loaded.items


def test_minerals_are_matched_case_insensitively_and_in_spanish() -> None:
    loaded = load_pillar_input(EXAMPLES / "cl-supply_chain.yaml", party="CL", pillar=Pillar.SUPPLY_CHAIN, author=None)
    assert isinstance(loaded, SupplyChainInput)
    assert [i.mineral for i in loaded.items] == ["lithium", "copper"]  # written "litio", "cobre"
    assert canonical_mineral("  NeoDymium ") == "neodymium"
    with pytest.raises(ValueError, match="'lithum' is not on the critical minerals list; did you mean lithium"):
        canonical_mineral("lithum")


def test_items_are_checked_against_their_pillar(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text(
        "author: vrojas@minrel.example\nsummary: s\nitems:\n"
        "  - {instrument: Guarantee, amount_usd: -5, public_share_pct: 140}\n"
        "  - {mineral: copper, risk: r, measure: m}\n"
    )
    with pytest.raises(InputFileError) as error:
        load_pillar_input(file, party="CL", pillar=Pillar.FINANCING, author=None)
    message = str(error.value)
    assert "is not a valid financing input" in message
    assert "items.0.amount_usd: Input should be greater than or equal to 0 (got '-5')" in message
    assert "items.0.public_share_pct: Input should be less than or equal to 100 (got '140')" in message
    assert (
        "items.1.instrument: Field required" in message and "items.1.mineral: Extra inputs are not permitted" in message
    )


def test_absurd_amounts_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text(
        "author: a@b.example\nsummary: s\nitems:\n  - {instrument: Loan, amount_usd: 1.7e308, public_share_pct: 5}\n"
    )
    with pytest.raises(InputFileError, match="amount_usd: Input should be less than or equal to 10000000000000"):
        load_pillar_input(file, party="CL", pillar=Pillar.FINANCING, author=None)


def test_party_and_pillar_come_from_the_command_and_must_not_contradict_the_file(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("party: US\nauthor: a@b.example\nsummary: s\n")
    with pytest.raises(InputFileError, match="the file says party 'US', the command says 'CL'"):
        load_pillar_input(file, party="CL", pillar=Pillar.RECYCLING, author=None)


def test_the_author_can_be_given_on_the_command_line(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("summary: s\nitems:\n  - {instrument: Loan, amount_usd: 10, public_share_pct: 5}\n")
    loaded = load_pillar_input(file, party="US", pillar=Pillar.FINANCING, author="MTurner@state.example")
    assert isinstance(loaded, FinancingInput) and loaded.author == "mturner@state.example"
    with pytest.raises(InputFileError, match="author: Field required"):
        load_pillar_input(file, party="US", pillar=Pillar.FINANCING, author=None)


def test_projects_need_at_least_one_known_mineral(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text(
        "author: a@b.example\nsummary: s\nitems:\n"
        "  - {name: P, minerals: [], location: L, estimated_investment_usd: 1, supply_gap: g}\n"
    )
    with pytest.raises(InputFileError, match=r"items\.0\.minerals: List should have at least 1 item"):
        load_pillar_input(file, party="CL", pillar=Pillar.STRATEGIC_PROJECTS, author=None)

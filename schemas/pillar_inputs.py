"""Typed pillar inputs: what a party contributes to a technical round on one pillar.

One model per pillar, chosen by the `pillar` field, so a financing row can never
be filed under recycling and every item is checked against its pillar's shape.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from schemas import limits
from schemas.annexes import Files
from schemas.base import Model
from schemas.declaration import Email, Pillar
from schemas.minerals import Mineral

Text = Annotated[str, Field(min_length=1, max_length=limits.MAX_ITEM_TEXT), limits.text(limits.MAX_ITEM_TEXT)]
# Bounds that catch a typo (an extra "e308") without limiting any real project.
Usd = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]
Tonnes = Annotated[float, Field(ge=0, le=1e10, allow_inf_nan=False)]
Summary = Annotated[str, Field(min_length=1, max_length=limits.MAX_SUMMARY), limits.text(limits.MAX_SUMMARY)]


class _Item(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SupplyChainItem(_Item):
    mineral: Mineral
    risk: Text
    measure: Text


class StrategicProjectItem(_Item):
    name: Text
    minerals: Annotated[list[Mineral], Field(min_length=1)]
    location: Text
    estimated_investment_usd: Usd
    supply_gap: Text


class RecyclingItem(_Item):
    material: Text
    approach: Text
    volume_tonnes_per_year: Tonnes


class FinancingItem(_Item):
    instrument: Text
    amount_usd: Usd
    public_share_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class _Input(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    party: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")]
    author: Email
    summary: Summary
    # Files attached to this revision (a position paper, a project list): references, never bytes.
    attachments: Files = Field(default_factory=list)


class SupplyChainInput(_Input):
    pillar: Literal[Pillar.SUPPLY_CHAIN]
    items: Annotated[list[SupplyChainItem], limits.at_most(limits.MAX_ITEMS)] = Field(default_factory=list)


class StrategicProjectsInput(_Input):
    pillar: Literal[Pillar.STRATEGIC_PROJECTS]
    items: Annotated[list[StrategicProjectItem], limits.at_most(limits.MAX_ITEMS)] = Field(default_factory=list)


class RecyclingInput(_Input):
    pillar: Literal[Pillar.RECYCLING]
    items: Annotated[list[RecyclingItem], limits.at_most(limits.MAX_ITEMS)] = Field(default_factory=list)


class FinancingInput(_Input):
    pillar: Literal[Pillar.FINANCING]
    items: Annotated[list[FinancingItem], limits.at_most(limits.MAX_ITEMS)] = Field(default_factory=list)


PillarInput = Annotated[
    SupplyChainInput | StrategicProjectsInput | RecyclingInput | FinancingInput,
    Field(discriminator="pillar"),
]
# Built on first use, as the models are (schemas.base).
PILLAR_INPUT: TypeAdapter[PillarInput] = TypeAdapter(PillarInput, config=ConfigDict(defer_build=True))

ITEM_MODELS: dict[Pillar, type[_Item]] = {
    Pillar.SUPPLY_CHAIN: SupplyChainItem,
    Pillar.STRATEGIC_PROJECTS: StrategicProjectItem,
    Pillar.RECYCLING: RecyclingItem,
    Pillar.FINANCING: FinancingItem,
}


class Channel(StrEnum):
    """How a submission or decision reached the workflow."""

    OPERATOR = "operator"  # a secretariat, from the CLI, on someone's behalf
    EMAIL_LINK = "email_link"  # the person themselves, through a link in their email


class SubmissionRecord(Model):
    """One revision of one party's input on one pillar, as recorded by the round."""

    model_config = ConfigDict(frozen=True)

    revision: int
    input: PillarInput
    submitted_by: str
    channel: Channel
    submitted_at: datetime
    superseded_at: datetime | None = None

"""The controlled vocabulary of minerals a pillar input may name.

The USGS 2022 list of critical minerals, plus copper (critical for Chile and on
later US lists). Names are matched case-insensitively; Spanish names for the
minerals the Chilean side reports most (cobre, litio, ...) are accepted and
stored under their English name, so a grid or a total never splits one mineral
in two.
"""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import AfterValidator

USGS_2022 = (
    "aluminum",
    "antimony",
    "arsenic",
    "barite",
    "beryllium",
    "bismuth",
    "cerium",
    "cesium",
    "chromium",
    "cobalt",
    "dysprosium",
    "erbium",
    "europium",
    "fluorspar",
    "gadolinium",
    "gallium",
    "germanium",
    "graphite",
    "hafnium",
    "holmium",
    "indium",
    "iridium",
    "lanthanum",
    "lithium",
    "lutetium",
    "magnesium",
    "manganese",
    "neodymium",
    "nickel",
    "niobium",
    "palladium",
    "platinum",
    "praseodymium",
    "rhodium",
    "rubidium",
    "ruthenium",
    "samarium",
    "scandium",
    "tantalum",
    "tellurium",
    "terbium",
    "thulium",
    "tin",
    "titanium",
    "tungsten",
    "vanadium",
    "ytterbium",
    "yttrium",
    "zinc",
    "zirconium",
)

MINERALS: frozenset[str] = frozenset([*USGS_2022, "copper"])

ALIASES = {
    "aluminium": "aluminum",
    "caesium": "cesium",
    "cobre": "copper",
    "litio": "lithium",
    "cobalto": "cobalt",
    "níquel": "nickel",
    "niquel": "nickel",
    "grafito": "graphite",
    "manganeso": "manganese",
    "neodimio": "neodymium",
    "disprosio": "dysprosium",
    "praseodimio": "praseodymium",
    "terbio": "terbium",
    "galio": "gallium",
    "germanio": "germanium",
    "antimonio": "antimony",
    "telurio": "tellurium",
    "estaño": "tin",
    "platino": "platinum",
    "paladio": "palladium",
    "vanadio": "vanadium",
    "itrio": "yttrium",
}


def canonical_mineral(name: str) -> str:
    key = " ".join(name.strip().lower().split())
    key = ALIASES.get(key, key)
    if key in MINERALS:
        return key
    close = difflib.get_close_matches(key, [*MINERALS, *ALIASES], n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(sorted(set(ALIASES.get(c, c) for c in close)))}?" if close else ""
    raise ValueError(f"{name!r} is not on the critical minerals list{hint}")


Mineral = Annotated[str, AfterValidator(canonical_mineral)]

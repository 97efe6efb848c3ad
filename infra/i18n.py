"""Words in the reader's language: gettext catalogs for messages, Babel for dates, numbers and plurals.

English is the source language: messages are written in English in the code and
the templates (`_("...")`, `ngettext(...)`), and every other language has one
catalog a translator reviews, `infra/locales/<lang>/LC_MESSAGES/messages.po`.
A new language is a new catalog plus its code in `schemas.declaration.Locale`.

Catalogs are read from the `.po` files themselves on first use (compiled in
memory), so there is no build step. `scripts/catalogs.py` brings them in step
with the code, and its `--check` (run by the tests) refuses a missing or stale
translation.

Placeholders are `str.format` fields (`{title}`); a translation must keep the
same fields. Reading files makes this module unfit for workflow code: only
activities, client operations and entry points use it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, tzinfo
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from schemas.declaration import Locale, Pillar

SOURCE = Locale.EN
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is declared; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Plural:
    """A message declared with its plural; `Words.ngettext` picks the reader's form for a count `{n}`."""

    singular: str
    plural: str


PILLAR_NAMES: dict[Pillar, str] = {
    Pillar.SUPPLY_CHAIN: N_("Supply chain resilience"),
    Pillar.STRATEGIC_PROJECTS: N_("Strategic projects"),
    Pillar.RECYCLING: N_("Recycling and scrap management"),
    Pillar.FINANCING: N_("Financing"),
}

# What each field of a pillar's items is called, in the minutes' columns and on the input form.
FIELD_LABELS: dict[str, str] = {
    "mineral": N_("Mineral"),
    "risk": N_("Risk"),
    "measure": N_("Measure"),
    "name": N_("Project"),
    "minerals": N_("Minerals"),
    "location": N_("Location"),
    "estimated_investment_usd": N_("Investment (USD)"),
    "supply_gap": N_("Supply gap"),
    "material": N_("Material"),
    "approach": N_("Approach"),
    "volume_tonnes_per_year": N_("Tonnes per year"),
    "instrument": N_("Instrument"),
    "amount_usd": N_("Amount (USD)"),
    "public_share_pct": N_("Public share %"),
}

# Mineral names are data (schemas.minerals); their catalog entries carry this context.
MINERAL_CONTEXT = "mineral"


def catalog_path(locale: Locale) -> Path:
    return LOCALES_DIR / locale.value / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: Locale) -> NullTranslations:
    """The catalog of one language, compiled in memory from its `.po` file (once per process)."""
    if locale is SOURCE:
        return NullTranslations()
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale.value, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: a guess is not a translation
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(accept_language: str) -> Locale:
    """The reader's language from a browser's `Accept-Language` (`es-CL,es;q=0.9`); English when none is known."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(accept_language.split(",")):
        tag, _, params = entry.partition(";")
        q = params.strip().removeprefix("q=")
        weight = float(q) if q.replace(".", "", 1).isdigit() else 1.0
        ranked.append((-weight, position, tag.strip().lower().partition("-")[0]))
    known = {locale.value: locale for locale in Locale}
    return next((known[language] for _, _, language in sorted(ranked) if language in known), SOURCE)


@dataclass(frozen=True)
class Words:
    """Everything one reader reads, in their language."""

    locale: Locale

    def gettext(self, message: str, /, **values: object) -> str:
        text = translations(self.locale).gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form for `n` in the reader's language; `{n}` and the other fields filled in."""
        return translations(self.locale).ngettext(singular, plural, n).format(n=n, **values)

    def colon(self, label: str) -> str:
        """A label before its value: `Meeting:`, `Réunion :` (French spaces its colons)."""
        return self.gettext("{label}:", label=label)

    def pillar(self, pillar: Pillar) -> str:
        return self.gettext(PILLAR_NAMES[pillar])

    def field(self, name: str) -> str:
        return self.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name

    def mineral(self, name: str) -> str:
        """A mineral stored under its English name, as the reader calls it."""
        return str(translations(self.locale).pgettext(MINERAL_CONTEXT, name))

    def when(self, moment: datetime, tz: tzinfo) -> str:
        """A moment in a consultation's zone: `December 12, 2026, 10:00 (UTC-03:00)`, `12 de diciembre de 2026, …`."""
        local = moment.astimezone(tz)
        return self.gettext(
            "{date}, {time} ({zone})",
            date=format_date(local, "long", locale=self.locale.value),
            time=format_time(local, "HH:mm", tzinfo=tz, locale=self.locale.value),
            zone=format_datetime(local, "'UTC'xxx", tzinfo=tz, locale=self.locale.value),
        )

    def amount(self, value: float) -> str:
        """Amounts and volumes: whole from 1,000 up (1,200,000 / 1.200.000), else to the cent."""
        whole = value == int(value) or value >= 1000
        return format_decimal(value, "#,##0" if whole else "#,##0.00", locale=self.locale.value)

    def percent(self, value: float) -> str:
        """A percentage given as 0–100, one decimal: `50.0 %`, `50,0 %`."""
        return format_percent(value / 100, "#,##0.0 %", locale=self.locale.value)

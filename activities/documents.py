"""Documents: Markdown to safe HTML, and the minutes of a technical round.

`render_minutes` is an activity so that templates and formatting stay out of
the workflow sandbox; it is a pure function of its input, so a retry renders
exactly the same text (and the same SHA-256).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.wording import PILLAR_NAMES
from infra.formatting import format_when
from schemas.declaration import Locale, Pillar
from schemas.pillar_inputs import FinancingInput, PillarInput, StrategicProjectsInput

# Raw HTML in Markdown is shown as text, never passed through: operators' and
# counterparts' text must not become markup in someone else's mail or browser.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_to_html(text: str) -> str:
    html: str = _markdown.render(text)
    return html


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


def money(amount: float, locale: Locale) -> str:
    """Whole numbers with the reader's thousands separator (1,200,000 / 1.200.000)."""
    text = f"{amount:,.0f}" if amount == int(amount) or amount >= 1000 else f"{amount:,.2f}"
    if locale == Locale.ES:  # 1.200.000,50
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: float, locale: Locale) -> str:
    text = f"{value:.1f} %"
    return text.replace(".", ",") if locale == Locale.ES else text


_templates = Environment(
    loader=PackageLoader("activities", "templates"),
    autoescape=False,  # Markdown output; HTML is made from it by markdown_to_html, which escapes
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters["cell"] = cell

LABELS = {
    Locale.EN: {
        "title": "Minutes of technical round {n}",
        "consultation": "Consultation",
        "meeting": "Meeting",
        "closed": "Inputs closed",
        "parties": "Parties",
        "no_input": "No input received from {party}.",
        "summary": "Summary",
        "projects": "Strategic projects portfolio",
        "financing": "Financing totals",
        "missing": "Missing inputs",
        "none_missing": "Every party submitted every pillar.",
        "party": "Party",
        "total": "Total",
        "public_share": "Public share (weighted)",
        "amount": "Amount (USD)",
        "close_kinds": {
            "complete": "every party submitted every pillar",
            "due": "inputs due date reached",
            "early": "closed early by {by}: {reason}",
        },
        "columns": {
            Pillar.SUPPLY_CHAIN: ["Mineral", "Risk", "Measure"],
            Pillar.STRATEGIC_PROJECTS: ["Project", "Minerals", "Location", "Investment (USD)", "Supply gap"],
            Pillar.RECYCLING: ["Material", "Approach", "Tonnes per year"],
            Pillar.FINANCING: ["Instrument", "Amount (USD)", "Public share %"],
        },
    },
    Locale.ES: {
        "title": "Acta de la ronda técnica {n}",
        "consultation": "Consulta",
        "meeting": "Reunión",
        "closed": "Cierre de aportes",
        "parties": "Partes",
        "no_input": "No se recibió aporte de {party}.",
        "summary": "Resumen",
        "projects": "Cartera de proyectos estratégicos",
        "financing": "Totales de financiamiento",
        "missing": "Aportes faltantes",
        "none_missing": "Todas las partes enviaron todos los pilares.",
        "party": "Parte",
        "total": "Total",
        "public_share": "Participación pública (ponderada)",
        "amount": "Monto (USD)",
        "close_kinds": {
            "complete": "todas las partes enviaron todos los pilares",
            "due": "se alcanzó la fecha límite de aportes",
            "early": "cerrada anticipadamente por {by}: {reason}",
        },
        "columns": {
            Pillar.SUPPLY_CHAIN: ["Mineral", "Riesgo", "Medida"],
            Pillar.STRATEGIC_PROJECTS: [
                "Proyecto",
                "Minerales",
                "Ubicación",
                "Inversión (USD)",
                "Brecha de suministro",
            ],
            Pillar.RECYCLING: ["Material", "Enfoque", "Toneladas por año"],
            Pillar.FINANCING: ["Instrumento", "Monto (USD)", "% público"],
        },
    },
}


class MinutesRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    number: int
    meeting_at: datetime
    inputs_closed_at: datetime
    close_reason: str  # kept for the record (English); the minutes word it per language from the fields below
    close_kind: Literal["complete", "due", "early"] = "due"
    closed_by: str | None = None
    early_reason: str | None = None
    utc_offset_minutes: int
    parties: dict[str, str]  # code -> name, in declaration order
    pillars: list[Pillar]
    inputs: list[PillarInput]
    missing: list[str]


def _rows(item_input: PillarInput, locale: Locale) -> list[list[str]]:
    rows: list[list[str]] = []
    for item in item_input.items:
        values = item.model_dump()
        if "minerals" in values:
            values["minerals"] = ", ".join(values["minerals"])
        for key in ("estimated_investment_usd", "amount_usd", "volume_tonnes_per_year"):
            if key in values:
                values[key] = money(values[key], locale)
        if "public_share_pct" in values:
            values["public_share_pct"] = percent(values["public_share_pct"], locale)
        rows.append([cell(v) for v in values.values()])
    return rows


def minutes_markdown(request: MinutesRequest, locale: Locale) -> str:
    tz = timezone(timedelta(minutes=request.utc_offset_minutes))
    by_pillar: dict[Pillar, dict[str, PillarInput]] = defaultdict(dict)
    for item_input in request.inputs:
        by_pillar[item_input.pillar][item_input.party] = item_input
    projects = [(i.party, p) for i in request.inputs if isinstance(i, StrategicProjectsInput) for p in i.items]
    financing: dict[str, tuple[float, float]] = {}
    for i in request.inputs:
        if isinstance(i, FinancingInput):
            amount = sum(f.amount_usd for f in i.items)
            public = sum(f.amount_usd * f.public_share_pct / 100 for f in i.items)
            financing[i.party] = (amount, public)
    return _templates.get_template("minutes.md.j2").render(
        r=request,
        t=LABELS[locale],
        locale=locale,
        pillar_names=PILLAR_NAMES[locale],
        when=lambda d: format_when(d, tz, locale),
        by_pillar=by_pillar,
        rows=lambda i: _rows(i, locale),
        projects=projects,
        financing=financing,
        money=lambda v: money(v, locale),
        percent=lambda v: percent(v, locale),
        close_reason=LABELS[locale]["close_kinds"][request.close_kind].format(  # type: ignore[index]
            by=request.closed_by or "", reason=request.early_reason or ""
        ),
        missing=[_missing_name(m, request, locale) for m in request.missing],
    )


def _missing_name(code: str, request: MinutesRequest, locale: Locale) -> str:
    """`US/financing` as a reader says it: `United States of America — Financing`."""
    party, _, pillar = code.partition("/")
    try:
        pillar_name = PILLAR_NAMES[locale][Pillar(pillar)]
    except ValueError:
        pillar_name = pillar
    return f"{request.parties.get(party, party)} ({party}) — {pillar_name}"


@activity.defn(name="render_minutes")
async def render_minutes(request: MinutesRequest) -> dict[Locale, str]:
    """The minutes in every language of the consultation's readers (Markdown)."""
    return {locale: minutes_markdown(request, locale) for locale in Locale}

"""Documents: Markdown to safe HTML, and the minutes of a technical round.

`render_minutes` is an activity so that templates and formatting stay out of
the workflow sandbox; it is a pure function of its input, so a retry renders
exactly the same text (and the same SHA-256).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from infra.i18n import N_, Words
from schemas.declaration import Locale, Pillar
from schemas.pillar_inputs import ITEM_MODELS, FinancingInput, PillarInput, StrategicProjectsInput

# Raw HTML in Markdown is shown as text, never passed through: operators' and
# counterparts' text must not become markup in someone else's mail or browser.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _links_and_images_as_text(state: StateCore) -> None:
    """Links and images become their words and their address, as text: a document fetches nothing
    and links nowhere (no tracking pixel in an approver's mail, no look-alike link in the dossier);
    the only links a reader gets are the gateway's, which the mail and the pages add themselves."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        addresses: list[str | None] = []  # the open links' addresses, None for an autolink (its text is it)
        for token in block.children:
            if token.type == "link_open":
                addresses.append(None if token.markup == "autolink" else str(token.attrGet("href") or ""))
            elif token.type == "link_close":
                address = addresses.pop() if addresses else None
                if address:
                    children.append(_text(f" ({address})"))
            elif token.type == "image":
                words = "".join(child.content for child in token.children or [])
                children.append(_text(f"{words} ({token.attrGet('src') or ''})".strip()))
            else:
                children.append(token)
        block.children = children


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


_markdown.core.ruler.push("links_and_images_as_text", _links_and_images_as_text)


def markdown_to_html(text: str) -> str:
    """Markdown (operators' drafts and re-issued minutes, the minutes we write) as HTML without raw
    HTML, images or links: headings, lists, tables and emphasis stay."""
    html: str = _markdown.render(text)
    return html


# Markdown that parties' text could start: emphasis and code (`*`, `_`, `` ` ``), links and images
# (`[`, `]`: a `!` alone is harmless), autolinks (`<`), table cells (`|`), and the escape itself.
_INLINE = re.compile(r"([\\`*_\[\]<|])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # `&lt;` would show as `<`, not as typed
# ... and at the start of a line: headings, quotes, list items, rules, setext underlines, fences.
_LINE_START = re.compile(r"^(?:([#>+\-=~])|([0-9]{1,9})([.)]))")


def inline(value: object) -> str:
    """Text shown as typed inside a line of Markdown: it can make no emphasis, link, image or cell."""
    return _ENTITY.sub(r"\\&", _INLINE.sub(r"\\\1", str(value)))


def text_block(value: object) -> str:
    """A party's text (a summary) as paragraphs of plain text: its lines cannot start a heading, a
    section, a list, a quote or a code block in minutes that others approve. Ordinary text is unchanged."""
    lines = []
    for line in inline(value).splitlines():
        line = line.lstrip()  # four spaces would make a code block, up to three still allow a heading
        lines.append(_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line))
    return "\n".join(lines)


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell or a single line (a heading, a list item): one line, no markup."""
    return inline(" ".join(str(value).split()))


_templates = Environment(
    # Templates ship with the code: no stat of every file each time a message or document is rendered.
    auto_reload=False,
    loader=PackageLoader("activities", "templates"),
    autoescape=False,  # Markdown output; HTML is made from it by markdown_to_html, which escapes
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters["cell"] = cell
_templates.filters["text"] = text_block


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
    # Languages to write them in; requests recorded before French existed meant these two.
    locales: list[Locale] = Field(default_factory=lambda: [Locale.ES, Locale.EN])


def _rows(item_input: PillarInput, words: Words) -> list[list[str]]:
    rows: list[list[str]] = []
    for item in item_input.items:
        values = item.model_dump()
        if "mineral" in values:
            values["mineral"] = words.mineral(values["mineral"])
        if "minerals" in values:
            values["minerals"] = _minerals(values["minerals"], words)
        for key in ("estimated_investment_usd", "amount_usd", "volume_tonnes_per_year"):
            if key in values:
                values[key] = words.amount(values[key])
        if "public_share_pct" in values:
            values["public_share_pct"] = words.percent(values["public_share_pct"])
        rows.append([cell(v) for v in values.values()])
    return rows


def _minerals(names: list[str], words: Words) -> str:
    return ", ".join(words.mineral(name) for name in names)


CLOSE_KINDS = {
    "complete": N_("every party submitted every pillar"),
    "due": N_("inputs due date reached"),
    "early": N_("closed early by {by}: {reason}"),
}


def minutes_markdown(request: MinutesRequest, locale: Locale) -> str:
    words = Words(locale)
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
        _=words.gettext,
        colon=words.colon,
        columns={p: [words.field(f) for f in model.model_fields] for p, model in ITEM_MODELS.items()},
        minerals=lambda names: _minerals(names, words),
        words=words,
        when=lambda d: words.when(d, tz),
        by_pillar=by_pillar,
        rows=lambda i: _rows(i, words),
        projects=projects,
        financing=financing,
        close_reason=words.gettext(
            CLOSE_KINDS[request.close_kind], by=request.closed_by or "", reason=request.early_reason or ""
        ),
        missing=[_missing_name(m, request, words) for m in request.missing],
        size=lambda n: file_size(n, words),
    )


def file_size(size: int, words: Words) -> str:
    """An attached file's size, exact (its SHA-256 is beside it): `20,971,520 bytes`, `20.971.520 bytes`."""
    return words.gettext("{size} bytes", size=words.amount(size))


def _missing_name(code: str, request: MinutesRequest, words: Words) -> str:
    """`US/financing` as a reader says it: `United States of America — Financing`."""
    party, _, pillar = code.partition("/")
    try:
        pillar_name = words.pillar(Pillar(pillar))
    except ValueError:
        pillar_name = pillar
    return f"{request.parties.get(party, party)} ({party}) — {pillar_name}"


@activity.defn(name="render_minutes")
async def render_minutes(request: MinutesRequest) -> dict[Locale, str]:
    """The minutes (Markdown) in each language the consultation's readers read."""
    return {locale: minutes_markdown(request, locale) for locale in request.locales}

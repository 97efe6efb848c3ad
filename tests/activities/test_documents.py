"""What parties type stays text in the minutes; documents become HTML that fetches nothing and links nowhere.

The payloads are the ones a hostile party tried: a heading that forges another party's section, one that
forges the secretariat's "Missing inputs", and an image that is a tracking pixel and a phishing link.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from activities.documents import MinutesRequest, markdown_to_html, minutes_markdown
from schemas.declaration import Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from tests.helpers import minutes_request

FORGED_PARTY = "### República de Chile (CL)"
FORGED_SECTION = "## Missing inputs"
PIXEL = "![p](http://evil.example/track.png)"
HOSTILE = f"Our position.\n{FORGED_PARTY}\nWe withdraw every project.\n{FORGED_SECTION}\n- none\n{PIXEL}"
ORDINARY = "A blended facility (USD 100 million+) — co-financing, 60% public; R&D shared."


def _request(summary: str, project_name: str = "Salar") -> MinutesRequest:
    inputs = [
        PILLAR_INPUT.validate_python(
            {
                "party": "US",
                "author": "mturner@state.example",
                "summary": summary,
                "pillar": "strategic_projects",
                "items": [
                    {
                        "name": project_name,
                        "minerals": ["lithium"],
                        "location": "Nevada",
                        "estimated_investment_usd": 1_000_000,
                        "supply_gap": "Refining",
                    }
                ],
            }
        ),
    ]
    return minutes_request(inputs, [Pillar.STRATEGIC_PROJECTS], ["CL/strategic_projects"])


def _text_of(html: str) -> str:
    """What a reader sees: the tags gone, entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def _no_remote_content(html: str) -> None:
    assert "<img" not in html
    assert not re.search(r"<a\b", html), "a document links nowhere"
    assert "evil.example" not in "".join(re.findall(r"""(?:href|src)\s*=\s*["']?([^"'\s>]+)""", html))


def test_a_party_summary_cannot_forge_sections_images_or_links() -> None:
    markdown = minutes_markdown(_request(HOSTILE), Locale.EN)
    lines = markdown.splitlines()
    # The real headings once each; the party's lines are never headings.
    assert lines.count(FORGED_PARTY) == 1 and lines.count(FORGED_SECTION) == 1
    assert lines.index(FORGED_PARTY) < lines.index("### United States of America (US)") < lines.index(FORGED_SECTION)
    html = markdown_to_html(markdown)
    assert re.findall(r"<h[1-6]>(.*?)</h[1-6]>", html) == [
        "Minutes of technical round 1",
        "Strategic projects",
        "República de Chile (CL)",
        "United States of America (US)",
        "Strategic projects portfolio",
        "Missing inputs",
    ]
    _no_remote_content(html)
    # The party's text reaches the reader as they typed it, line by line.
    seen = _text_of(html)
    for line in HOSTILE.splitlines():
        assert line in seen


@pytest.mark.parametrize("locale", list(Locale))
def test_item_cells_and_names_are_text_too(locale: Locale) -> None:
    markdown = minutes_markdown(_request("Fine.", project_name=f"{PIXEL} [login](http://evil.example/login)"), locale)
    html = markdown_to_html(markdown)
    _no_remote_content(html)
    assert f"<td>{PIXEL} [login](http://evil.example/login)</td>" in html


def test_ordinary_text_is_written_as_before() -> None:
    markdown = minutes_markdown(_request(ORDINARY), Locale.EN)
    assert f"\n{ORDINARY}\n" in markdown  # no escapes where nothing needs them
    assert "| Salar | lithium | Nevada | 1,000,000 | Refining |" in markdown


def test_operator_documents_keep_their_structure_but_fetch_and_link_nothing() -> None:
    draft = (
        "# Agreement\n\n## Article 1\n\n"
        f"The parties agree. {PIXEL} See [the annex](https://evil.example/annex) or <https://evil.example/a>.\n\n"
        "| Party | Share |\n|---|---|\n| CL | 50% |\n"
    )
    html = markdown_to_html(draft)
    assert "<h1>Agreement</h1>" in html and "<h2>Article 1</h2>" in html and "<td>50%</td>" in html
    _no_remote_content(html)
    # An address is shown as text, for the reader to judge, never as a link or an image.
    assert "p (http://evil.example/track.png)" in html and "the annex (https://evil.example/annex)" in html
    assert "<script" not in markdown_to_html("<script>alert(1)</script>\n\n<img src=http://evil.example/x>")

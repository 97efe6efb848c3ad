"""Keep the message catalogs (infra/locales/<lang>/LC_MESSAGES/messages.po) in step with the code.

    python scripts/catalogs.py           # add new messages (untranslated), mark stale ones obsolete
    python scripts/catalogs.py --check   # exit 1 if a catalog misses a translation, keeps a stale one,
                                         # or changes a message's {placeholders} (the tests run this)

Messages are found where the code and templates say them (`_`, `gettext`,
`ngettext`, `N_`, `Plural`) plus the data shown to readers by name: minerals
(context "mineral").
A new language: add its code to `schemas.declaration.Locale` and run this
script; it creates the catalog for a translator to fill in.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import i18n  # noqa: E402
from schemas.declaration import Locale  # noqa: E402
from schemas.minerals import MINERALS  # noqa: E402

PACKAGES = ("activities", "gateway", "operations", "infra")
KEYWORDS = {**DEFAULT_KEYWORDS, "Plural": (1, 2)}
METHODS = [("**.py", "python"), ("**/templates/**", "jinja2.ext:babel_extract")]
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def template() -> Catalog:
    """Every message a reader may read, in English."""
    catalog = Catalog(locale=i18n.SOURCE.value, domain=i18n.DOMAIN, project="consultation-orchestrator")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / package, METHODS, keywords=KEYWORDS, comment_tags=("Translators:",)
        ):
            catalog.add(message, locations=[(f"{package}/{filename}", lineno)], auto_comments=comments, context=context)
    for mineral in sorted(MINERALS):
        catalog.add(mineral, context=i18n.MINERAL_CONTEXT)
    return catalog


# A notice names its document with or without an article, as the language's grammar needs.
INTERCHANGEABLE = {"doc", "the_doc"}


def _placeholders(text: str | tuple[str, ...] | list[str]) -> set[str]:
    texts = [text] if isinstance(text, str) else list(text)
    names = {name for t in texts for name in PLACEHOLDER.findall(t)} - {"n"}
    return names - INTERCHANGEABLE | ({"doc"} if names & INTERCHANGEABLE else set())


def problems(catalog: Catalog, source: Catalog) -> list[str]:
    found: list[str] = []
    for message in source:
        if not message.id:
            continue
        translated: Message | None = catalog.get(message.id, context=message.context)
        strings = translated.string if translated else None
        if translated is None or not strings or (not isinstance(strings, str) and not all(strings)):
            found.append(f"untranslated: {message.id!r}")
        elif translated.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif _placeholders(strings) != _placeholders(message.id):
            found.append(f"placeholders differ: {message.id!r}")
    stale = [m for m in catalog if m.id and source.get(m.id, context=m.context) is None]
    found += [f"stale: {m.id!r}" for m in stale]
    found += [f"obsolete entry kept: {m.id!r}" for m in catalog.obsolete.values()]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on any problem")
    check = parser.parse_args().check
    source = template()
    failed = False
    for locale in Locale:
        if locale is i18n.SOURCE:
            continue
        path = i18n.catalog_path(locale)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=locale.value, domain=i18n.DOMAIN)
        else:
            catalog = Catalog(locale=locale.value, domain=i18n.DOMAIN, project="consultation-orchestrator")
        if check:
            for problem in problems(catalog, source):
                print(f"{path.relative_to(ROOT)}: {problem}")  # noqa: T201
                failed = True
            continue
        catalog.update(source, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=0, no_location=True, omit_header=False, sort_output=False)
        missing = [p for p in problems(catalog, source) if p.startswith("untranslated")]
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} to translate")  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

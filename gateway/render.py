"""Turning a page into HTML, and the words of pages that come before a link is read.

Every word a reader sees comes from the catalogs, through `gateway.texts` (by key)
in this module or through `Page` (gateway/page.py).

Nothing here is read or converted twice: the templates are compiled once per process and
never checked for changes on disk (they ship with the code), and a document's HTML is kept
by its version's SHA-256 and language (a version's text never changes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from activities.documents import markdown_to_html
from gateway.kept import Kept
from gateway.texts import texts, words_for
from infra.i18n import negotiate
from schemas.declaration import Locale
from schemas.pages import PageDocument

TEMPLATES_DIR = Path(__file__).parent / "templates"
_ENV = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(), auto_reload=False)
TEMPLATES: dict[str, Template] = {path.name: _ENV.get_template(path.name) for path in TEMPLATES_DIR.glob("*.html")}

DOCUMENTS_KEPT = 256  # versions × languages: a few MB of HTML at most
_documents: Kept[tuple[str, Locale], Markup] = Kept(DOCUMENTS_KEPT)


def document_html(document: PageDocument) -> Markup:
    """A document version as HTML, converted once per version and language for the life of the process."""
    key = (document.sha256, document.locale)
    html = _documents.get(key)
    if html is None:
        html = Markup(markdown_to_html(document.text))
        _documents.put(key, html)
    return html


def locale_of(request: Request) -> Locale:
    """The reader's language before their link is read: from the browser's Accept-Language."""
    return negotiate(request.headers.get("accept-language", ""))


def render(request: Request, template: str, status: int, locale: Locale, **context: Any) -> HTMLResponse:
    html = TEMPLATES[template].render(
        locale=locale.value, t=texts(locale), colon=words_for(locale).colon, request=request, **context
    )
    return HTMLResponse(html, status_code=status)


def message(request: Request, status: int, locale: Locale, title: str, detail: str, **extra: Any) -> HTMLResponse:
    kind = "ok" if status < 300 else "notice"
    return render(request, "message.html", status, locale, title=title, detail=detail, kind=kind, **extra)


def titled(request: Request, status: int, locale: Locale, title_key: str, detail: str) -> HTMLResponse:
    """A message page whose title is one of the texts, by key."""
    return message(request, status, locale, texts(locale)[title_key], detail)


def not_found(request: Request, status: int) -> HTMLResponse:
    locale = locale_of(request)
    return titled(request, status, locale, "not_found", texts(locale)["invalid_detail"])


def unreadable(request: Request, status: int) -> HTMLResponse:
    """A request no page of ours makes, when the reader is not known yet."""
    locale = locale_of(request)
    return titled(request, status, locale, "unreadable", texts(locale)["unreadable_detail"])


def unavailable(request: Request) -> HTMLResponse:
    """Temporal could not be reached in time: nothing was recorded, and trying again is safe."""
    locale = locale_of(request)
    response = titled(request, 503, locale, "unavailable", texts(locale)["unavailable_detail"])
    response.headers["Retry-After"] = "30"
    return response


def fault(request: Request, error_id: str) -> HTMLResponse:
    """A bug: said plainly, with the id that finds its log line."""
    locale = locale_of(request)
    t = texts(locale)
    return message(request, 500, locale, t["fault"], t["fault_detail"].format(error_id=error_id))

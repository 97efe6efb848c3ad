"""Turning a page into HTML, and the words of pages that come before a link is read.

Every word a reader sees comes from the catalogs, through `gateway.texts` (by key)
in this module or through `Page` (gateway/page.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gateway.texts import texts
from infra.i18n import Words, negotiate
from schemas.declaration import Locale

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def locale_of(request: Request) -> Locale:
    """The reader's language before their link is read: from the browser's Accept-Language."""
    return negotiate(request.headers.get("accept-language", ""))


def render(request: Request, template: str, status: int, locale: Locale, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"locale": locale.value, "t": texts(locale), "colon": Words(locale).colon, **context},
        status_code=status,
    )


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

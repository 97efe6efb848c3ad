"""Turning a page into HTML, and the words of pages that come before a link is read.

Every word a reader sees comes from `gateway.texts` through this module or through
`Page` (gateway/page.py): two places to rewire when the words move to catalogs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gateway.texts import TEXTS
from schemas.declaration import Locale

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# The page for a fault in the gateway itself. New words, kept here until the texts move to
# catalogs (gateway/texts.py is being replaced); `{error_id}` is the id in the log line.
FAULT_TEXTS: dict[Locale, dict[str, str]] = {
    Locale.EN: {
        "title": "Something went wrong on our side",
        "detail": "This is a fault in the service, not in your link. It was logged as error {error_id}; "
        "please quote this id to the secretariat.",
    },
    Locale.ES: {
        "title": "Ocurrió un error en el servicio",
        "detail": "Es una falla del servicio, no de su enlace. Quedó registrada como error {error_id}; "
        "indique este código a la secretaría.",
    },
}


def texts(locale: Locale) -> dict[str, str]:
    return TEXTS[locale]


def locale_of(request: Request) -> Locale:
    """The reader's language before their link is read: from the browser's Accept-Language."""
    return Locale.ES if request.headers.get("accept-language", "").lower().startswith("es") else Locale.EN


def render(request: Request, template: str, status: int, locale: Locale, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"locale": locale.value, "t": texts(locale), **context}, status_code=status
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


def unavailable(request: Request) -> HTMLResponse:
    """Temporal could not be reached in time: nothing was recorded, and trying again is safe."""
    locale = locale_of(request)
    response = titled(request, 503, locale, "unavailable", texts(locale)["unavailable_detail"])
    response.headers["Retry-After"] = "30"
    return response


def fault(request: Request, error_id: str) -> HTMLResponse:
    """A bug: said plainly, with the id that finds its log line."""
    locale = locale_of(request)
    words = FAULT_TEXTS[locale]
    return message(request, 500, locale, words["title"], words["detail"].format(error_id=error_id))

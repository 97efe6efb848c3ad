"""The gateway: the pages behind the links in counterparts' emails.

A thin layer: it verifies a link, reads the page from the workflow it names (one
small query, `link_page`), and on POST sends one Update to that workflow first, with
an id derived from the request: GET and HEAD never change anything (mail scanners
open links); the workflow is the source of truth for whether a decision is still
open, and the same form posted twice records once and is answered the same way.

Where things are: one router per resource (gateway/routers/), what routes need as
dependencies (deps.py), the page a verified link opens (page.py), form parsing
(forms.py), files sent with a form and files downloaded (uploads.py, downloads.py), rendering and
words (render.py, texts.py), errors (errors.py, middleware.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.converter import PayloadCodec

from gateway import render
from gateway.deps import ClientProvider, GatewayConfig, VerifiedTokens
from gateway.errors import PageError
from gateway.middleware import GatewayMiddleware
from gateway.page import Readers
from gateway.routers import approvals, calendar, files, health, inputs, links
from gateway.routers.codec import router as codec_router
from gateway.uploads import Recorded
from infra.links import LinkSigner
from schemas.base import build_all


def create_app(
    *,
    signer: LinkSigner,
    clients: ClientProvider,
    codec: PayloadCodec | None = None,
    codec_token: str | None = None,
    ui_origin: str = "http://localhost:8080",
    revoked_feeds: Mapping[str, int] | None = None,
    calendar_domain: str = "consult.localhost",
) -> FastAPI:
    """`clients` returns a connected Temporal client (the caller decides how; tests pass their own).

    With `codec` and `codec_token`, `/codec/encode` and `/codec/decode` let the Temporal UI show
    decrypted payloads to operators (CORS limited to `ui_origin`, bearer token required).
    `revoked_feeds` and `calendar_domain` serve operators' calendar feeds (gateway/routers/calendar.py).
    """
    build_all()  # the vocabulary's validators, now rather than on the first pages (schemas/base.py)
    app = FastAPI(title="Consultation gateway", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = GatewayConfig(
        signer, clients, codec, codec_token, ui_origin, dict(revoked_feeds or {}), calendar_domain
    )
    app.state.readers = Readers()  # who reads which link, kept from the pages read (gateway/page.py)
    app.state.tokens = VerifiedTokens(signer)
    app.state.recorded = Recorded()  # files a reader attached lately (gateway/uploads.py)
    app.include_router(health.router)
    app.include_router(calendar.router)
    app.include_router(links.router)
    app.include_router(approvals.router)
    app.include_router(inputs.router)
    app.include_router(files.router)
    if codec is not None and codec_token:
        app.include_router(codec_router)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[ui_origin],
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
        )
    # Added last, so it is the outermost: every answer, CORS preflights too, gets its headers and log line.
    app.add_middleware(GatewayMiddleware)
    _handle_page_errors(app)
    return app


def _handle_page_errors(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def _page_error(request: Request, error: PageError) -> HTMLResponse:
        return render.titled(request, error.status, error.locale, error.title_key, error.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        if error.status_code in (404, 405):
            return render.not_found(request, error.status_code)
        # Any other refusal from below the routes is about the request, not a missing page.
        return render.unreadable(request, error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> HTMLResponse:
        return render.unreadable(request, 400)

"""The gateway application.

For now it only answers that it is up; the pages behind email links (approvals,
pillar-input forms) arrive with the email-link capability.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def create_app() -> FastAPI:
    app = FastAPI(title="Consultation gateway", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def home() -> str:
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Consultation gateway</title></head><body>"
            "<h1>Consultation gateway</h1>"
            "<p>Links in consultation emails open their pages here.</p></body></html>"
        )

    return app

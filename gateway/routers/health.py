"""The service's own pages: a liveness check and a home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.render import message
from schemas.declaration import Locale

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return message(
        request, 200, Locale.EN, "Consultation gateway", "Links in consultation emails open their pages here."
    )

"""The service's own pages: liveness, readiness and a home page.

`/healthz` says the process answers (cheap: it asks nothing of anyone); `/readyz` says it can
serve links, that is, the Temporal server answers a health check in time. Compose's health
check uses `/readyz`, so a gateway cut off from Temporal shows as unhealthy.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.deps import Config
from gateway.errors import connecting_failed
from gateway.render import message
from infra import logs
from schemas.declaration import Locale

# Well under the health check's own timeout (5 s in docker-compose.yml), so the answer is a 503, not a hang.
READY_TIMEOUT = timedelta(seconds=3)

router = APIRouter(tags=["health"])
log = logs.get_logger("gateway")


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(config: Config) -> JSONResponse:
    """200 when the Temporal server answers its gRPC health check within READY_TIMEOUT, 503 otherwise."""
    try:
        async with asyncio.timeout(READY_TIMEOUT.total_seconds()):  # connecting included
            client = await config.clients()
            serving = await client.service_client.check_health(timeout=READY_TIMEOUT)
    except Exception as error:
        if not connecting_failed(error):
            raise  # a bug: the middleware's 500, which a health check reads as unhealthy too
        log.warning("not ready: temporal out of reach", error=repr(error))
        serving = False
    if not serving:
        return JSONResponse({"status": "unavailable", "temporal": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "temporal": "serving"})


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return message(
        request, 200, Locale.EN, "Consultation gateway", "Links in consultation emails open their pages here."
    )

"""Around every request: security headers, one log line without the token, and the answer to
an error no route handled — 503 when Temporal is out of reach, 500 with an error id otherwise.
"""

from __future__ import annotations

import re
import secrets
import time

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import render
from gateway.errors import out_of_reach
from infra import logs
from infra.storage import storage_problem

# Email links (/l/TOKEN), file links (/files/TOKEN) and calendar feeds (/calendar/TOKEN.ics) carry
# credentials in the path.
TOKEN_IN_PATH = re.compile(r"/(l|files|calendar)/[^/]+")
SECURITY_HEADERS = {
    # Token pages must not be cached or leak their URL to other sites.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}
log = logs.get_logger("gateway")


class GatewayMiddleware:
    """Plain ASGI (not Starlette's BaseHTTPMiddleware, which runs every request through an extra task
    and memory streams): the headers are added to the response as it starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        path = TOKEN_IN_PATH.sub(r"/\1/…", scope["path"])  # links are credentials: never logged
        status = 500
        answering = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                answering = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                # A route may only tighten the policy (a download's is stricter still): it keeps its own.
                own_policy = headers.get("content-security-policy")
                headers.update(SECURITY_HEADERS)
                if own_policy:
                    headers["Content-Security-Policy"] = own_policy
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if answering:  # too late for a page: the answer has begun
                raise
            request = Request(scope)
            if out_of_reach(error):
                store = storage_problem(error)  # the store's own line says which bucket or folder, and why
                what = "file store out of reach" if store else "temporal out of reach"
                log.warning(what, method=request.method, path=path, error=store or repr(error))
                response = render.unavailable(request)
            else:
                # A bug: said as one, with an id the reader can quote and the log line carries.
                error_id = secrets.token_hex(4)
                log.error("unexpected error", method=request.method, path=path, error_id=error_id, exc_info=error)
                response = render.fault(request, error_id)
            await response(scope, receive, send_with_headers)
        log.info(
            "request", method=scope["method"], path=path, status=status, ms=round((time.monotonic() - started) * 1000)
        )

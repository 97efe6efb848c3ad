"""Around every request: security headers, one log line without the token, and the answer to
an error no route handled — 503 when Temporal is out of reach, 500 with an error id otherwise.
"""

from __future__ import annotations

import re
import secrets
import time

from fastapi import Request
from fastapi.responses import Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from gateway import render
from gateway.errors import out_of_reach
from infra import logs

# Email links (/l/TOKEN) and calendar feeds (/calendar/TOKEN.ics) carry credentials in the path.
TOKEN_IN_PATH = re.compile(r"/(l|calendar)/[^/]+")
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


class GatewayMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.monotonic()
        path = TOKEN_IN_PATH.sub(r"/\1/…", request.url.path)  # links are credentials: never logged
        try:
            response = await call_next(request)
        except Exception as error:
            if out_of_reach(error):
                log.warning("temporal out of reach", method=request.method, path=path, error=repr(error))
                response = render.unavailable(request)
            else:
                # A bug: said as one, with an id the reader can quote and the log line carries.
                error_id = secrets.token_hex(4)
                log.error("unexpected error", method=request.method, path=path, error_id=error_id, exc_info=error)
                response = render.fault(request, error_id)
        response.headers.update(SECURITY_HEADERS)
        log.info(
            "request",
            method=request.method,
            path=path,
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000),
        )
        return response

"""An operator's calendar feed: `GET /calendar/{token}.ics`, one `text/calendar` a calendar app subscribes to.

The URL comes from `consult calendar-url --by EMAIL`. Its token (infra/links.py `sign_feed`) names the
operator and the URL's number; a number at or below the one CONSULT_CALENDAR_REVOKED gives for that
operator is refused, as is anything damaged or expired. Refusals are short plain-text answers (a
calendar app shows no page, a person pasting the URL reads one line); Temporal out of reach is the
middleware's 503, so the app keeps its last copy.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from gateway.deps import Config, RpcTimeout, connect
from infra.links import LinkError
from operations.calendar_feed import operator_feed

router = APIRouter(tags=["calendar"])

NEW_URL = "ask for a new one with `consult calendar-url --by EMAIL`"


@router.api_route("/calendar/{token}.ics", methods=["GET", "HEAD"], response_model=None)
async def feed(token: str, config: Config, rpc_timeout: RpcTimeout) -> Response:
    try:
        claims = config.signer.verify_feed(token)
    except LinkError as error:
        if error.expired:
            return PlainTextResponse(f"This calendar link has expired; {NEW_URL}.\n", status_code=410)
        return PlainTextResponse("This calendar link is damaged or was not issued by us.\n", status_code=400)
    if claims.version <= config.revoked_feeds.get(claims.operator, 0):
        return PlainTextResponse(f"This calendar link was revoked; {NEW_URL}.\n", status_code=403)
    return await _serve(claims.operator, config, rpc_timeout)


async def _serve(operator: str, config: Config, rpc_timeout: RpcTimeout) -> Response:
    # Connected only once the token is trusted: a bad link never reaches Temporal.
    client = await connect(config)
    data = await operator_feed(
        client, operator, domain=config.calendar_domain, now=datetime.now(UTC), rpc_timeout=rpc_timeout
    )
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="consultations.ics"'},
    )

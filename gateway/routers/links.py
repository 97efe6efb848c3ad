"""The page a link opens: its approval page, or its party's pillar-input overview.

GET and HEAD only show: mail scanners open links, and opening one changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.deps import VerifiedPage
from gateway.routers.approvals import approval_page
from gateway.routers.inputs import inputs_page

router = APIRouter(tags=["links"])


@router.api_route("/l/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def open_link(request: Request, page: VerifiedPage) -> Response:
    if page.data.approval is not None:
        return approval_page(request, page)
    return inputs_page(request, page)

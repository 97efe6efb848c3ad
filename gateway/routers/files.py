"""A file link: one file of a document its reader was sent, as a download.

The token is checked first (a bad or forged one never reaches Temporal); then the workflow it names
answers one small query (`file_page`, workflows/pages.py): the file, only if it is where the link
says and the reader is in the consultation. The bytes come from External Storage (`fetch_file`,
checked against the recorded SHA-256) and go out as an attachment, never rendered inline.
GET and HEAD only: opening a file link changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.deps import GatewayConfig, RpcTimeout, connect, expired
from gateway.downloads import download
from gateway.errors import PageError
from gateway.page import invalid
from gateway.render import locale_of
from gateway.texts import texts
from infra import logs
from infra.files import fetch_file
from infra.links import LinkError
from schemas.declaration import Locale
from schemas.links import FileClaims
from schemas.pages import FilePage, FileRequest
from workflows.pages import RoundPages

router = APIRouter(tags=["files"])
log = logs.get_logger("gateway")


def gone(locale: Locale) -> PageError:
    """The page of a file link that names no file its reader was sent (or whose workflow is gone)."""
    return PageError(404, "file_gone", texts(locale)["file_gone_detail"], locale)


async def file_page(client: Client, claims: FileClaims, locale: Locale, rpc_timeout: timedelta) -> FilePage:
    """The workflow's answer for this file link (a round and a consultation answer it the same way)."""
    request = FileRequest(recipient=claims.recipient, sha256=claims.sha256, where=claims.where)
    try:
        return await client.get_workflow_handle(claims.workflow_id).query(
            RoundPages.file_page, request, rpc_timeout=rpc_timeout
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise gone(locale) from None
        raise  # out of reach (a 503) or a bug (a 500)


async def _expired(config: GatewayConfig, claims: FileClaims, locale: Locale, rpc_timeout: timedelta) -> PageError:
    """The page of an expired file link, in its reader's language when the workflow still knows them."""
    operators = "—"
    try:
        page = await file_page(await connect(config), claims, locale, rpc_timeout)
        operators = ", ".join(page.operators)
        locale = page.reader.locale if page.reader else locale
    except Exception as error:  # only details of a page that already says what to do
        log.warning("reader not found for an expired file link", error=repr(error))
    return expired(locale, claims.expires_at, operators)


@router.api_route("/files/{token}", methods=["GET", "HEAD"])
async def download_file(request: Request, token: str, rpc_timeout: RpcTimeout) -> Response:
    config: GatewayConfig = request.app.state.config
    locale = locale_of(request)
    try:
        claims = config.signer.verify_file(token)
    except LinkError as error:
        if error.expired and error.file is not None:
            raise await _expired(config, error.file, locale, rpc_timeout) from None
        raise invalid(locale) from None
    client = await connect(config)
    page = await file_page(client, claims, locale, rpc_timeout)
    if page.reader is None:  # a valid signature for someone no longer in the declaration
        raise invalid(locale)
    locale = page.reader.locale
    if page.file is None:
        raise gone(locale)
    if request.method == "HEAD":  # a mail scanner's look: the headers, without reading the file
        return download(page.file, None)
    return download(page.file, await fetch_file(client.data_converter, page.file))

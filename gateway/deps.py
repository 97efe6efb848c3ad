"""What a route needs, as `Annotated` dependencies: configuration, the RPC timeout, and the
verified link (`VerifiedLink`: its claims, and how to read its page and reach Temporal) or its
page (`VerifiedPage`).

A route names what it needs in its signature (`page: VerifiedPage`); tests replace a
piece with `app.dependency_overrides[deps.get_page] = ...`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from gateway.errors import PageError, Unavailable, connecting_failed
from gateway.kept import Kept
from gateway.page import Page, Reader, Readers, Voice, invalid, load_page, operators_of
from gateway.render import locale_of
from gateway.texts import texts, words_for
from gateway.uploads import TooLarge, read_form, read_upload_form
from infra import logs
from infra.links import LinkError, LinkSigner
from schemas.declaration import Locale, Pillar
from schemas.links import LinkClaims

# Every Temporal call the gateway makes waits this long at most: a page answers within
# seconds, and past this says "try again" (503) rather than hang.
RPC_TIMEOUT = timedelta(seconds=8)

ClientProvider = Callable[[], Awaitable[Client]]
log = logs.get_logger("gateway")


@dataclass(frozen=True)
class GatewayConfig:
    """What `create_app` was given, kept on `app.state.config`."""

    signer: LinkSigner
    clients: ClientProvider  # returns a connected client; the caller decides how
    codec: PayloadCodec | None = None
    codec_token: str | None = None
    ui_origin: str = "http://localhost:8080"
    # Calendar feeds: the last revoked URL number per operator (CONSULT_CALENDAR_REVOKED), and the
    # domain of the UIDs, the mail sender's (so the feed's events are the emailed invitations').
    revoked_feeds: Mapping[str, int] = field(default_factory=dict)
    calendar_domain: str = "consult.localhost"


async def get_config(request: Request) -> GatewayConfig:
    config: GatewayConfig = request.app.state.config
    return config


Config = Annotated[GatewayConfig, Depends(get_config)]


async def get_rpc_timeout() -> timedelta:
    return RPC_TIMEOUT


RpcTimeout = Annotated[timedelta, Depends(get_rpc_timeout)]


# Every dependency is `async def` (FastAPI runs a plain `def` one in a worker thread, a hop per request),
# and a link's route has few of them: each one resolved costs every request.


async def connect(config: GatewayConfig) -> Client:
    try:
        return await config.clients()
    except Exception as error:
        if connecting_failed(error):
            raise Unavailable from error
        raise


class VerifiedTokens:
    """Link tokens whose signature was checked lately, with their claims: a reader's page, its form and
    their posts are the same token, checked once. The keys cannot change while the process runs, so
    a token verified stays verified; only its expiry is checked again, on every use."""

    def __init__(self, signer: LinkSigner, size: int = 10_000) -> None:
        self._signer = signer
        self._claims: Kept[str, LinkClaims] = Kept(size)

    def verify(self, token: str) -> LinkClaims:
        """The claims, or LinkError (the signer's: damaged, or expired with its claims)."""
        claims = self._claims.get(token)
        if claims is not None and claims.expires_at > datetime.now(UTC):
            return claims
        claims = self._signer.verify(token)
        self._claims.put(token, claims)
        return claims


async def verified(
    token: str, tokens: VerifiedTokens, config: GatewayConfig, locale: Locale, rpc_timeout: timedelta
) -> LinkClaims:
    """The link's claims, or a page that says why it cannot be trusted (before Temporal is asked anything)."""
    try:
        return tokens.verify(token)
    except LinkError as error:
        if error.expired and error.claims is not None:
            operators = await _operators(config, error.claims, rpc_timeout)
            raise expired(locale, error.claims.expires_at, operators) from None
        raise invalid(locale) from None


async def _operators(config: GatewayConfig, claims: LinkClaims, rpc_timeout: timedelta) -> str:
    try:
        return await operators_of(await connect(config), claims, rpc_timeout)
    except Exception as error:  # only a detail of a page that already says what to do
        log.warning("operators not found for an expired link", error=repr(error))
        return "—"


@dataclass
class Link:
    """A verified link, and how to read its page: what the POST routes start from (they send their
    update first, and read the page only to explain a refusal or to show the form again)."""

    claims: LinkClaims
    token: str
    config: GatewayConfig
    browser_locale: Locale  # for refusals before the reader is known
    rpc_timeout: timedelta
    readers: Readers

    async def client(self) -> Client:
        return await connect(self.config)

    async def page(self, pillar: Pillar | None = None) -> Page:
        """The page as the workflow has it now (one query)."""
        client = await self.client()
        return await load_page(
            client, self.claims, self.token, self.browser_locale, self.rpc_timeout, self.readers, pillar
        )

    async def reader(self) -> Reader:
        """Who reads the link: known from an earlier page of it, else read with its page."""
        return self.readers.get(self.claims) or (await self.page()).reader

    def known_voice(self) -> Voice | None:
        """How the reader reads their answers, if known without asking the workflow: signed into the
        link, or from an earlier page of it."""
        known = self.readers.get(self.claims)
        return Voice.signed(self.claims) or (known.voice if known else None)

    async def voice(self) -> Voice:
        return self.known_voice() or (await self.reader()).voice

    async def locale(self) -> Locale:
        return (await self.voice()).locale


async def get_link(token: str, request: Request, rpc_timeout: RpcTimeout) -> Link:
    """The verified link (one dependency: the configuration, the browser's language and the known
    readers come from the app and the request, not as dependencies of their own)."""
    state = request.app.state
    config: GatewayConfig = state.config
    locale = locale_of(request)
    claims = await verified(token, state.tokens, config, locale, rpc_timeout)
    return Link(claims, token, config, locale, rpc_timeout, state.readers)


VerifiedLink = Annotated[Link, Depends(get_link)]


async def get_page(link: VerifiedLink) -> Page:
    # `claims` are verified first: a link that cannot be trusted is refused without connecting to Temporal.
    return await link.page()


VerifiedPage = Annotated[Page, Depends(get_page)]


async def get_form(request: Request, link: VerifiedLink) -> FormData:
    """The posted form, read within the limits of the largest form a page offers (gateway/uploads.py,
    `read_form`); anything else is a page in the reader's language: 413 past MAX_FORM_BYTES, 400 for
    what no page sends (a file, too many fields, a broken multipart body)."""
    return await _read_posted(request, link, read_form)


async def _read_posted(request: Request, link: Link, read: Callable[[Request], Awaitable[FormData]]) -> FormData:
    try:
        return await read(request)
    except TooLarge:
        raise too_large(await link.locale()) from None
    except (HTTPException, MultiPartException):  # Starlette words a MultiPartException as a 400 HTTPException
        raise unreadable(await link.locale()) from None


def expired(locale: Locale, expires_at: datetime, operators: str) -> PageError:
    """The page of a link (a page's or a file's) past its expiry: when it expired, and whom to write to."""
    detail = texts(locale)["expired_detail"].format(when=words_for(locale).when(expires_at, UTC), operators=operators)
    return PageError(410, "expired", detail, locale)


def too_large(locale: Locale) -> PageError:
    return PageError(413, "too_large", texts(locale)["too_large_detail"], locale)


def unreadable(locale: Locale) -> PageError:
    return PageError(400, "unreadable", texts(locale)["unreadable_detail"], locale)


PostedForm = Annotated[FormData, Depends(get_form)]


async def get_upload_form(request: Request, link: VerifiedLink) -> AsyncIterator[FormData]:
    """The posted input form with its files (gateway/uploads.py), closed (its spooled files removed)
    once the answer is sent: 413 past its bounds, 400 for a body no page sends, in the reader's language."""
    form = await _read_posted(request, link, read_upload_form)
    try:
        yield form
    finally:
        await form.close()


UploadForm = Annotated[FormData, Depends(get_upload_form)]

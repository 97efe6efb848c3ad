"""The page a verified link opens: who reads it, and the approval or inputs it is about.

`load_page` asks the workflow the link names one small query (`link_page`, workflows/pages.py)
shaped for the page: never the declaration or the whole status. Opening a link changes nothing.

Who reads a link (name, party, language, the consultation's zone) never changes for a workflow
run. How they read (`Voice`: their language and the zone) is signed into the links of notices sent
since issue 11, and each page read keeps the whole reader in `Readers`: a decision is answered in the
reader's words without asking the workflow anything but the decision itself (a link signed before,
whose page was not read in this process, reads it beside the decision).
`Page` is also where a route finds its words, in the reader's language.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.errors import PageError
from gateway.kept import Kept
from gateway.texts import DECISION_WORDS, OUTCOME_WORDS, form_labels, texts, words_for
from infra.i18n import Words
from operations import links
from schemas.approvals import Decision
from schemas.declaration import Locale, Pillar
from schemas.links import LinkClaims
from schemas.pages import ApprovalPage, InputPage, LinkPage, LinkPageRequest, PageReader


@dataclass(frozen=True)
class Voice:
    """How a reader reads their answers: their language, and the consultation's zone for dates."""

    locale: Locale
    tz: timezone

    @classmethod
    def signed(cls, claims: LinkClaims) -> Voice | None:
        """From the link itself, when its notice signed them in (links signed before did not)."""
        if claims.locale is None or claims.utc_offset_minutes is None:
            return None
        return cls(claims.locale, timezone(timedelta(minutes=claims.utc_offset_minutes)))


@dataclass(frozen=True)
class Reader:
    """Who reads a link, and the consultation they read it in: fixed for the life of a workflow run."""

    person: PageReader
    title: str
    tz: timezone
    operators: tuple[str, ...]

    @property
    def locale(self) -> Locale:
        return self.person.locale

    @property
    def voice(self) -> Voice:
        return Voice(self.locale, self.tz)

    @classmethod
    def of(cls, page: LinkPage) -> Reader | None:
        if page.reader is None:
            return None
        tz = timezone(timedelta(minutes=page.utc_offset_minutes))
        return cls(page.reader, page.title, tz, tuple(page.operators))


class Readers:
    """The readers of recently read links, by workflow and recipient (bounded, least recently used out).

    Kept a while only: a workflow id can be used again by a new run once the old one is gone."""

    def __init__(self, size: int = 10_000, ttl: timedelta = timedelta(minutes=30)) -> None:
        self._readers: Kept[tuple[str, str], Reader] = Kept(size, ttl)

    def get(self, claims: LinkClaims) -> Reader | None:
        return self._readers.get((claims.workflow_id, claims.recipient))

    def put(self, claims: LinkClaims, reader: Reader) -> None:
        self._readers.put((claims.workflow_id, claims.recipient), reader)


@dataclass
class Page:
    """Everything a link page needs: who reads it, and what the workflow answered for it."""

    claims: LinkClaims
    token: str
    reader: Reader
    data: LinkPage

    @property
    def approval(self) -> ApprovalPage:
        if self.data.approval is None:  # an input link on an approval page: refuse as a bad link
            raise self.invalid()
        return self.data.approval

    @property
    def inputs(self) -> InputPage:
        if self.data.inputs is None:  # an approval link on an input page
            raise self.invalid()
        return self.data.inputs

    @property
    def person(self) -> PageReader:
        return self.reader.person

    @property
    def title(self) -> str:
        return self.reader.title

    @property
    def locale(self) -> Locale:
        return self.reader.locale

    @property
    def t(self) -> dict[str, str]:
        return texts(self.locale)

    @property
    def words(self) -> Words:
        return words_for(self.locale)

    def when(self, moment: datetime | None) -> str:
        return when(self.reader.voice, moment)

    def decision_word(self, decision: Decision) -> str:
        return decision_word(self.locale, decision)

    def outcome_word(self, outcome: str) -> str:
        return self.words.gettext(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome

    def pillar_name(self, pillar: Pillar) -> str:
        return self.words.pillar(pillar)

    @property
    def field_labels(self) -> dict[str, str]:
        return form_labels(self.locale)

    def invalid(self) -> PageError:
        return invalid(self.locale)

    def closed(self, detail: str, status: int = 409) -> PageError:
        return PageError(status, "closed", detail, self.locale)


def invalid(locale: Locale) -> PageError:
    """The page of a link that cannot be trusted, or is not for this page, or for a reader no longer there."""
    return PageError(400, "invalid", texts(locale)["invalid_detail"], locale)


def when(voice: Voice, moment: datetime | None) -> str:
    return _when(voice.locale, voice.tz, moment) if moment else ""


@functools.lru_cache(maxsize=4096)
def _when(locale: Locale, tz: timezone, moment: datetime) -> str:
    """A date as a reader reads it: the same deadline is on every view of a page, formatted once."""
    return words_for(locale).when(moment, tz)


def decision_word(locale: Locale, decision: Decision) -> str:
    return words_for(locale).gettext(DECISION_WORDS[decision.value])


async def load_page(
    client: Client,
    claims: LinkClaims,
    token: str,
    locale: Locale,
    rpc_timeout: timedelta,
    readers: Readers,
    pillar: Pillar | None = None,
) -> Page:
    """The page of a verified link; `locale` is the browser's, for refusals before the reader is known.
    `pillar`: the input form being opened (its current input comes with the page)."""
    request = LinkPageRequest(recipient=claims.recipient, purpose=claims.purpose, version=claims.version, pillar=pillar)
    try:
        data = await links.link_page(client, claims.workflow_id, request, rpc_timeout=rpc_timeout)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise PageError(409, "closed", claims.workflow_id, locale) from None
        raise  # out of reach (a 503) or a bug (a 500): the middleware tells which
    reader = Reader.of(data)
    if reader is None:  # a valid signature for someone no longer in the declaration
        raise invalid(locale)
    readers.put(claims, reader)
    return Page(claims, token, reader, data)


async def operators_of(client: Client, claims: LinkClaims, rpc_timeout: timedelta) -> str:
    """Whom to write to, for the page of an expired link."""
    request = LinkPageRequest(recipient=claims.recipient, purpose=claims.purpose)
    page = await links.link_page(client, claims.workflow_id, request, rpc_timeout=rpc_timeout)
    return ", ".join(page.operators)

"""The page a verified link opens: who reads it, and the round or agreement it is about.

`load_page` reads the workflow the link names (queries only: opening a link never
changes anything). `Page` is also where a route finds its words, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.errors import PageError
from gateway.texts import DECISION_WORDS, FORM_LABELS, OUTCOME_WORDS, texts
from infra.formatting import display_tz
from infra.i18n import Words
from operations import links
from schemas.approvals import ApprovalState, Decision, DecisionRecord
from schemas.consultation import ConsultationStatus, Stage
from schemas.declaration import Counterpart, Declaration, Locale, Party, Pillar
from schemas.documents import DocumentVersion
from schemas.links import LinkClaims, LinkPurpose
from schemas.rounds import RoundState, RoundStatus


@dataclass
class ApprovalView:
    """What an approval page shows, for minutes and agreement drafts alike."""

    round_number: int | None  # None: the agreement
    approval: ApprovalState | None
    decisions: list[DecisionRecord]
    versions: list[DocumentVersion]
    open: bool
    state: str
    allowed: tuple[Decision, ...]

    @property
    def agreement(self) -> bool:
        return self.round_number is None


def minutes_view(s: RoundStatus) -> ApprovalView:
    return ApprovalView(
        s.number,
        s.approval,
        s.decisions,
        s.minutes,
        s.state is RoundState.MINUTES_APPROVAL,
        s.state.value,
        (Decision.APPROVE, Decision.REQUEST_CHANGES),
    )


def agreement_view(s: ConsultationStatus) -> ApprovalView:
    return ApprovalView(
        None,
        s.agreement_approval,
        s.agreement_decisions,
        s.drafts,
        s.stage is Stage.AWAITING_APPROVAL,
        s.stage.value,
        (Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.DECLINE),
    )


@dataclass
class Page:
    """Everything a link page needs: who reads it, and the round it is about."""

    claims: LinkClaims
    token: str
    declaration: Declaration
    party: Party
    person: Counterpart
    view: ApprovalView | None = None  # approval links
    round_status: RoundStatus | None = None  # round links

    @property
    def status(self) -> RoundStatus:
        if self.round_status is None:  # an agreement link on a round page: refuse as a bad link
            raise self.invalid()
        return self.round_status

    @property
    def locale(self) -> Locale:
        return self.person.locale

    @property
    def t(self) -> dict[str, str]:
        return texts(self.locale)

    @property
    def words(self) -> Words:
        return Words(self.locale)

    def when(self, moment: datetime | None) -> str:
        return self.words.when(moment, display_tz(self.declaration.signed_at)) if moment else ""

    def decision_word(self, decision: Decision) -> str:
        return self.words.gettext(DECISION_WORDS[decision.value])

    def outcome_word(self, outcome: str) -> str:
        return self.words.gettext(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome

    def pillar_name(self, pillar: Pillar) -> str:
        return self.words.pillar(pillar)

    @property
    def field_labels(self) -> dict[str, str]:
        return {field: self.words.gettext(label) for field, label in FORM_LABELS.items()}

    def invalid(self) -> PageError:
        return PageError(400, "invalid", self.t["invalid_detail"], self.locale)

    def closed(self, detail: str, status: int = 409) -> PageError:
        return PageError(status, "closed", detail, self.locale)


async def load_page(client: Client, claims: LinkClaims, token: str, locale: Locale, rpc_timeout: timedelta) -> Page:
    """The page of a verified link; `locale` is the browser's, for refusals before the reader is known."""
    agreement = claims.purpose is LinkPurpose.AGREEMENT_APPROVAL
    view: ApprovalView | None = None
    round_status: RoundStatus | None = None
    try:
        declaration = await links.declaration_for_link(
            client, claims.workflow_id, agreement=agreement, rpc_timeout=rpc_timeout
        )
        if agreement:
            view = agreement_view(await links.agreement_for_link(client, claims.workflow_id, rpc_timeout=rpc_timeout))
        else:
            round_status = await links.round_for_link(client, claims.workflow_id, rpc_timeout=rpc_timeout)
            if claims.purpose is LinkPurpose.MINUTES_APPROVAL:
                view = minutes_view(round_status)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise PageError(409, "closed", claims.workflow_id, locale) from None
        raise  # out of reach (a 503) or a bug (a 500): the middleware tells which
    match = next(((p, c) for p in declaration.parties for c in p.counterparts if c.email == claims.recipient), None)
    if match is None:  # a valid signature for someone no longer in the declaration
        raise PageError(400, "invalid", texts(locale)["invalid_detail"], locale)
    return Page(claims, token, declaration, match[0], match[1], view, round_status)


async def operators_of(client: Client, claims: LinkClaims, rpc_timeout: timedelta) -> str:
    """Whom to write to, for the page of an expired link."""
    agreement = claims.purpose is LinkPurpose.AGREEMENT_APPROVAL
    declaration = await links.declaration_for_link(
        client, claims.workflow_id, agreement=agreement, rpc_timeout=rpc_timeout
    )
    return ", ".join(o.email for o in declaration.operators)

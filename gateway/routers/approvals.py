"""Approving minutes and agreement drafts through a link: the page, the decision, forwarding.

The page is shown again before anything is sent, so a decision that is already recorded,
or a request that is no longer open, is said rather than sent; the workflow stays the
judge (its validators refuse a late or second decision).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.documents import markdown_to_html
from gateway.deps import PostedForm, ReaderLocale, RpcTimeout, TemporalClient, VerifiedClaims, VerifiedPage
from gateway.forms import field_errors
from gateway.page import ApprovalView, Page, load_page
from gateway.render import message, render
from operations import links
from schemas.approvals import Decision, DecisionRequest, DelegateRequest, Outcome
from schemas.declaration import Role
from schemas.pillar_inputs import Channel

router = APIRouter(prefix="/l/{token}", tags=["approvals"])


def approval_page(request: Request, page: Page, status: int = 200, error: str = "", comment: str = "") -> Response:
    """The document to decide on with its buttons, or a 409 page saying why there is nothing to decide."""
    claims, s = page.claims, page.view
    if s is None:
        raise page.invalid()
    delegated_by = next(
        (d for d in (s.approval.delegations if s.approval else []) if d.delegate == claims.recipient), None
    )
    acting_for = delegated_by.approver if delegated_by else claims.recipient
    earlier = next((d for d in s.decisions if d.version == claims.version and d.approver == acting_for), None)
    if earlier is not None:
        name = earlier.approver_name
        if earlier.delegate_name:
            name = f"{earlier.delegate_name} ({page.t['on_behalf'].format(name=earlier.approver_name)})"
        detail = page.t["already_detail"].format(
            when=page.when(earlier.at), name=name, decision=page.decision_word(earlier.decision)
        )
        return message(request, 409, page.locale, page.t["already"], detail)
    approval = s.approval
    if approval is None or approval.version != claims.version or approval.outcome is not Outcome.PENDING or not s.open:
        return message(request, 409, page.locale, page.t["closed"], _why_closed(page, s))
    minutes = s.versions[approval.version - 1]
    approvers = {c.email for c in page.party.with_role(Role.APPROVER)}
    is_approver = delegated_by is None and claims.recipient in approvers
    already_forwarded = any(d.approver == claims.recipient for d in approval.delegations)
    colleagues = (
        [c for c in page.party.counterparts if c.email not in approvers]
        if is_approver and not already_forwarded
        else []
    )
    reader = f"{page.person.name} ({page.party.name})"
    if delegated_by is not None:
        reader += ", " + page.t["on_behalf"].format(name=delegated_by.approver_name)
    return render(
        request,
        "approval.html",
        status,
        page.locale,
        title=page.t["minutes_of"].format(n=s.round_number) if s.round_number else page.t["agreement_draft"],
        consultation_title=page.declaration.title,
        reader=reader,
        version=minutes.version,
        sha=minutes.sha256,
        deadline=page.when(approval.deadline),
        document=Markup(markdown_to_html(minutes.text_for(page.locale))),
        action=f"/l/{page.token}/decision",
        error=error,
        comment=comment,
        colleagues=colleagues,
        delegate_action=f"/l/{page.token}/delegate",
        can_decline=Decision.DECLINE in s.allowed,
    )


def _why_closed(page: Page, s: ApprovalView) -> str:
    approval, version = s.approval, page.claims.version
    if approval and approval.version != version and approval.outcome is Outcome.PENDING and s.open:
        return page.t["newer_version"].format(version=approval.version)
    if approval and approval.version == version:
        return page.outcome_word(approval.outcome.value)
    return page.outcome_word(s.state)


def _refusal(failure: WorkflowUpdateFailedError) -> str:
    """The workflow's reason for refusing, written for the reader by its validator."""
    cause = failure.cause
    return cause.message if isinstance(cause, ApplicationError) else ""


@router.post("/decision", response_class=HTMLResponse)
async def decide(
    request: Request,
    page: VerifiedPage,
    claims: VerifiedClaims,
    form: PostedForm,
    client: TemporalClient,
    locale: ReaderLocale,
    rpc_timeout: RpcTimeout,
) -> Response:
    if page.view is None:
        raise page.invalid()
    comment = str(form.get("comment", "")).strip()
    try:
        decision = Decision(str(form.get("decision", "")))
    except ValueError:
        return approval_page(request, page, 400, page.t["need_comment"], comment)
    if decision not in page.view.allowed:
        return approval_page(request, page, 400, page.t["invalid_detail"], comment)
    if decision is not Decision.APPROVE and not comment:
        return approval_page(request, page, 400, page.t["need_comment"], comment)
    response = approval_page(request, page)
    if response.status_code != 200:  # already decided, or no longer open
        return response
    try:
        decision_request = DecisionRequest(
            approver=claims.recipient,
            decision=decision,
            sha256=claims.sha256 or "",
            comment=comment,
            channel=Channel.EMAIL_LINK,
            recorded_by=claims.recipient,
        )
    except ValidationError as error:  # the comment past its limit, said in the reader's language
        errors = field_errors(error, page.words)
        return approval_page(request, page, 400, errors.get("comment", page.t["invalid_detail"]), comment)
    try:
        record = await links.decide_by_link(client, claims.workflow_id, decision_request, rpc_timeout=rpc_timeout)
    except WorkflowUpdateFailedError as failure:
        # Lost a race with another click, or the request closed meanwhile: show what is recorded.
        fresh = await load_page(client, claims, page.token, locale, rpc_timeout)
        response = approval_page(request, fresh)
        if response.status_code != 200:
            return response
        return approval_page(request, fresh, 400, _refusal(failure), comment)
    detail = page.t["recorded_detail"].format(
        decision=page.decision_word(record.decision),
        version=record.version,
        sha=record.sha256,
        when=page.when(record.at),
    )
    return message(request, 200, page.locale, page.t["recorded"], detail)


@router.post("/delegate", response_class=HTMLResponse)
async def delegate(
    request: Request, page: VerifiedPage, form: PostedForm, client: TemporalClient, rpc_timeout: RpcTimeout
) -> Response:
    response = approval_page(request, page)
    if response.status_code != 200 or page.view is None:
        return response
    try:
        delegate_request = DelegateRequest(
            approver=page.claims.recipient,
            delegate=str(form.get("delegate", "")),
            channel=Channel.EMAIL_LINK,
            recorded_by=page.claims.recipient,
        )
    except ValidationError:  # not an address: the page offers a list, so this is a hand-made request
        return approval_page(request, page, 400, page.t["choose_colleague"])
    try:
        record = await links.delegate_by_link(
            client, page.claims.workflow_id, delegate_request, rpc_timeout=rpc_timeout
        )
    except WorkflowUpdateFailedError as failure:
        return approval_page(request, page, 400, _refusal(failure))
    detail = page.t["forwarded_detail"].format(name=record.delegate_name, version=record.version)
    return message(request, 200, page.locale, page.t["forwarded"], detail)

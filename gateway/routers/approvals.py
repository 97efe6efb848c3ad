"""Approving minutes and agreement drafts through a link: the page, the decision, forwarding.

A decision (or a forwarding) is sent first, with an id derived from it and the link's version:
the workflow is the judge (its validators refuse a late, second or stale decision), and the same
form posted twice, or again after a timeout, records once and gets the same confirmation. The
page is read only to explain a refusal, or to show the form again with what to correct.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.wording import FileGroup
from gateway.deps import Link, PostedForm, VerifiedLink
from gateway.downloads import file_lines
from gateway.forms import field_errors
from gateway.page import Page, Voice, decision_word, when
from gateway.render import document_html, message, render
from gateway.texts import texts
from operations import links
from schemas.approvals import Decision, DecisionRecord, DecisionRequest, DelegateRequest, Outcome
from schemas.links import FileLocation, LinkPurpose
from schemas.pages import ApprovalPage, PageDocument
from schemas.pillar_inputs import Channel
from workflows.pages import AGREEMENT_DECISIONS, MINUTES_DECISIONS

router = APIRouter(prefix="/l/{token}", tags=["approvals"])

# The decisions each approval link may send: the ones its page offers (`ApprovalPage.allowed`), known
# here without reading the page, as a decision is sent first.
ALLOWED = {LinkPurpose.MINUTES_APPROVAL: MINUTES_DECISIONS, LinkPurpose.AGREEMENT_APPROVAL: AGREEMENT_DECISIONS}


def approval_page(request: Request, page: Page, status: int = 200, error: str = "", comment: str = "") -> Response:
    """The document to decide on with its buttons, or a 409 page saying why there is nothing to decide."""
    s = page.approval
    if s.earlier is not None:
        earlier = s.earlier
        name = earlier.approver_name
        if earlier.delegate_name:
            name = f"{earlier.delegate_name} ({page.t['on_behalf'].format(name=earlier.approver_name)})"
        detail = page.t["already_detail"].format(
            when=page.when(earlier.at), name=name, decision=page.decision_word(earlier.decision)
        )
        return message(request, 409, page.locale, page.t["already"], detail)
    document = s.document  # only while the link's version awaits this reader's decision
    if document is None:
        return message(request, 409, page.locale, page.t["closed"], _why_closed(page, s))
    reader = f"{page.person.name} ({page.person.party_name})"
    if s.delegated_by is not None:
        reader += ", " + page.t["on_behalf"].format(name=s.delegated_by.approver_name)
    return render(
        request,
        "approval.html",
        status,
        page.locale,
        title=page.t["minutes_of"].format(n=s.round_number) if s.round_number else page.t["agreement_draft"],
        consultation_title=page.title,
        reader=reader,
        version=document.version,
        sha=document.sha256,
        deadline=page.when(s.deadline),
        document=document_html(document),
        action=f"/l/{page.token}/decision",
        error=error,
        comment=comment,
        colleagues=s.colleagues,
        delegate_action=f"/l/{page.token}/delegate",
        can_decline=Decision.DECLINE in s.allowed,
        files=document_files(request, page, document),
        covers=page.t["covers_annexes"].format(sha=document.sha256) if document.annexes else "",
    )


def document_files(request: Request, page: Page, document: PageDocument) -> list[FileGroup]:
    """The version's annexes and (minutes) the inputs' files, each with a download link for the reader."""
    signer = request.app.state.config.signer
    groups = []
    if document.annexes:
        where = FileLocation(version=document.version)
        lines = file_lines(signer, page.claims, document.annexes, where, page.words)
        groups.append(FileGroup(page.t["annexes"], lines, annexes=True))
    for i in page.approval.input_files:
        heading = page.t["input_files"].format(party=i.party_name, pillar=page.pillar_name(i.pillar), rev=i.revision)
        groups.append(FileGroup(heading, file_lines(signer, page.claims, i.files, i.where, page.words)))
    return groups


def _why_closed(page: Page, s: ApprovalPage) -> str:
    version = page.claims.version
    if s.version is not None and s.version != version and s.outcome is Outcome.PENDING and s.open:
        return page.t["newer_version"].format(version=s.version)
    if s.version is not None and s.version == version and s.outcome is not None:
        return page.outcome_word(s.outcome.value)
    return page.outcome_word(s.state)


def _refusal(failure: WorkflowUpdateFailedError) -> str:
    """The workflow's reason for refusing, written for the reader by its validator."""
    cause = failure.cause
    return cause.message if isinstance(cause, ApplicationError) else ""


async def _approval_link(link: Link) -> None:
    """An approval route refuses any other link (as a bad link, in its reader's language)."""
    if link.claims.purpose not in ALLOWED:
        raise (await link.page()).invalid()


def _recorded(request: Request, voice: Voice, record: DecisionRecord) -> Response:
    t = texts(voice.locale)
    detail = t["recorded_detail"].format(
        decision=decision_word(voice.locale, record.decision),
        version=record.version,
        sha=record.sha256,
        when=when(voice, record.at),
    )
    return message(request, 200, voice.locale, t["recorded"], detail)


async def _again(request: Request, link: Link, text_key: str, comment: str = "") -> Response:
    """The page again, with what to correct (a 409 instead if there is nothing left to decide)."""
    page = await link.page()
    return approval_page(request, page, 400, page.t[text_key], comment)


def _explained(request: Request, fresh: Page, refusal: str, comment: str = "") -> Response:
    """After a refusal: what is recorded now (already decided, closed, a newer version) as a 409, or the
    form again with the workflow's reason."""
    response = approval_page(request, fresh)
    if response.status_code != 200:
        return response
    return approval_page(request, fresh, 400, refusal, comment)


def _voice_alongside(link: Link) -> asyncio.Future[Voice]:
    """How the reader reads the answer: signed into the link (or known from the page they decided on),
    or else read while the update is sent (the answer then waits for the slower of the two, not for both)."""
    known = link.known_voice()
    if known is None:
        return asyncio.ensure_future(link.voice())
    done: asyncio.Future[Voice] = asyncio.get_running_loop().create_future()
    done.set_result(known)
    return done


def _refused(failure: BaseException) -> bool:
    """The workflow refused the update, or has ended (NOT_FOUND): a page explains; anything else is
    Temporal out of reach (a 503) or a bug (a 500)."""
    if isinstance(failure, RPCError):
        return failure.status is RPCStatusCode.NOT_FOUND
    return isinstance(failure, WorkflowUpdateFailedError)


async def _dropped(voice: asyncio.Future[Voice]) -> None:
    """The voice read alongside an update that failed: not needed (a refusal reads the page afresh)."""
    voice.cancel()
    with contextlib.suppress(BaseException):
        await voice


@router.post("/decision", response_class=HTMLResponse)
async def decide(request: Request, link: VerifiedLink, form: PostedForm) -> Response:
    await _approval_link(link)
    claims = link.claims
    comment = str(form.get("comment", "")).strip()
    try:
        decision = Decision(str(form.get("decision", "")))
    except ValueError:
        return await _again(request, link, "need_comment", comment)
    if decision not in ALLOWED[claims.purpose]:
        return await _again(request, link, "invalid_detail", comment)
    if decision is not Decision.APPROVE and not comment:
        return await _again(request, link, "need_comment", comment)
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
        page = await link.page()
        errors = field_errors(error, page.words)
        return approval_page(request, page, 400, errors.get("comment", page.t["invalid_detail"]), comment)
    client = await link.client()
    voice = _voice_alongside(link)
    try:
        record = await links.decide_by_link(
            client, claims.workflow_id, decision_request, version=claims.version, rpc_timeout=link.rpc_timeout
        )
    except BaseException as failure:
        await _dropped(voice)
        if not _refused(failure):
            raise  # out of reach (a 503) or a bug (a 500)
        # Lost a race with another click, the request closed meanwhile, or a newer version is out (or
        # the workflow has ended: NOT_FOUND): show what is recorded. The same decision, recorded from
        # this link already (its workflow gone since), is confirmed as it was the first time.
        fresh = await link.page()
        earlier = fresh.approval.earlier
        if earlier is not None and _same(earlier, decision_request):
            return _recorded(request, fresh.reader.voice, earlier)
        refusal = _refusal(failure) if isinstance(failure, WorkflowUpdateFailedError) else ""
        return _explained(request, fresh, refusal, comment)
    return _recorded(request, await voice, record)


def _same(record: DecisionRecord, request: DecisionRequest) -> bool:
    """The record of this very request: same sender, decision and comment (on the link's version)."""
    return (record.recorded_by, record.decision, record.comment) == (
        request.recorded_by,
        request.decision,
        request.comment.strip(),
    ) and record.sha256 == request.sha256


@router.post("/delegate", response_class=HTMLResponse)
async def delegate(request: Request, link: VerifiedLink, form: PostedForm) -> Response:
    await _approval_link(link)
    claims = link.claims
    try:
        delegate_request = DelegateRequest(
            approver=claims.recipient,
            delegate=str(form.get("delegate", "")),
            channel=Channel.EMAIL_LINK,
            recorded_by=claims.recipient,
        )
    except ValidationError:  # not an address: the page offers a list, so this is a hand-made request
        return await _again(request, link, "choose_colleague")
    client = await link.client()
    voice = _voice_alongside(link)
    try:
        record = await links.delegate_by_link(
            client, claims.workflow_id, delegate_request, version=claims.version, rpc_timeout=link.rpc_timeout
        )
    except BaseException as failure:
        await _dropped(voice)
        if not _refused(failure):
            raise
        refusal = _refusal(failure) if isinstance(failure, WorkflowUpdateFailedError) else ""
        return _explained(request, await link.page(), refusal)
    known = await voice
    t = texts(known.locale)
    detail = t["forwarded_detail"].format(name=record.delegate_name, version=record.version)
    return message(request, 200, known.locale, t["forwarded"], detail)

"""Pillar inputs through a link: the party's overview, one form per pillar, its submission.

A submission is sent first, with an id derived from it and the revision the form was opened on: the
same form posted twice, or again after a timeout, records once. The page is read to show the form
again (a row added or removed, a field to correct) or to explain a refusal.

The form is multipart: files attached to the input (gateway/uploads.py: every file checked before
any is stored, a refusal names the file), and a "keep" box per file of the party's current input.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.wording import FileLine
from gateway.deps import Link, UploadForm, VerifiedLink, unreadable
from gateway.downloads import file_lines
from gateway.forms import MalformedForm, Row, as_row, field_errors, fields_of, parse_input_form
from gateway.page import Page
from gateway.render import message, render
from gateway.texts import texts, words_for
from gateway.uploads import (
    FILES_FIELD,
    KEEP_FIELD,
    Recorded,
    Refusal,
    chosen_files,
    first_refusal,
    record_uploads,
)
from infra.files import FileRefused
from operations import links
from schemas.annexes import EXTENSIONS, MAX_FILES, Sha256
from schemas.declaration import Pillar
from schemas.links import FileLocation, LinkPurpose
from schemas.pillar_inputs import PILLAR_INPUT, Channel
from schemas.rounds import SubmitInputRequest

# What the file input offers to choose: every accepted type, by extension and media type.
ACCEPT = ",".join([ext for exts in EXTENSIONS.values() for ext in exts] + [str(t) for t in EXTENSIONS])

router = APIRouter(prefix="/l/{token}/input", tags=["inputs"])


def inputs_page(request: Request, page: Page) -> Response:
    """The pillars the reader's party owes this round, each with its state and its form."""
    s = page.inputs
    if not s.collecting:
        return message(request, 409, page.locale, page.t["closed"], page.t["inputs_closed"])
    recorded = request.query_params.get("recorded", "")
    notice = ""
    if recorded in {p.value for p in s.pillars}:
        submitted = s.submitted.get(Pillar(recorded))
        notice = page.t["input_recorded_detail"].format(
            pillar=page.pillar_name(Pillar(recorded)),
            rev=request.query_params.get("revision", "?"),
            when=page.when(submitted.submitted_at if submitted else None),
        )
    pillars = [
        {
            "name": page.pillar_name(p),
            "state": page.t["submitted"].format(rev=s.submitted[p].revision) if p in s.submitted else page.t["missing"],
            "href": f"/l/{page.token}/input/{p.value}",
        }
        for p in s.pillars
    ]
    return render(
        request,
        "inputs.html",
        200,
        page.locale,
        title=page.t["inputs_title"].format(n=s.round_number),
        consultation_title=page.title,
        reader=f"{page.person.name} ({page.person.party_name})",
        due=page.when(s.inputs_due),
        pillars=pillars,
        recorded_title=page.t["input_recorded"] if notice else "",
        recorded=notice,
    )


def form_page(
    request: Request,
    page: Page,
    pillar: Pillar,
    summary: str,
    rows: list[Row],
    revision: int | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    kept: set[str] | None = None,
) -> Response:
    """The form; `kept`: the files of the current input whose "keep" box is ticked (all, when None)."""
    return render(
        request,
        "input_form.html",
        status,
        page.locale,
        title=f"{page.pillar_name(pillar)} — {page.t['inputs_title'].format(n=page.inputs.round_number)}",
        reader=f"{page.person.name} ({page.person.party_name})",
        due=page.when(page.inputs.inputs_due),
        summary=summary,
        rows=rows,
        revision=revision,
        fields=fields_of(pillar),
        labels=page.field_labels,
        errors=errors or {},
        action=f"/l/{page.token}/input/{pillar.value}",
        back=f"/l/{page.token}",
        accept=ACCEPT,
        files_field=FILES_FIELD,
        keep_field=KEEP_FIELD,
        earlier=[(line, kept is None or line.sha256 in kept) for line in earlier_files(request, page, pillar)],
    )


def earlier_files(request: Request, page: Page, pillar: Pillar) -> list[FileLine]:
    """The files of the party's current input on the pillar, each with a link for the reader to check it."""
    current, submitted = page.inputs.current, page.inputs.submitted.get(pillar)
    if current is None or submitted is None or not current.attachments:
        return []
    where = FileLocation(party=current.party, pillar=pillar, revision=submitted.revision)
    signer = request.app.state.config.signer
    return file_lines(signer, page.claims, current.attachments, where, page.words)


def input_target(page: Page, pillar_name: str) -> Pillar:
    """The pillar a form is for, if this link may still give an input on it."""
    if page.claims.purpose is not LinkPurpose.PILLAR_INPUT:
        raise page.invalid()
    try:
        pillar = Pillar(pillar_name)
    except ValueError:
        raise page.closed(pillar_name, 404) from None
    if pillar not in page.inputs.pillars:
        raise page.closed(page.pillar_name(pillar), 404)
    if not page.inputs.collecting:
        raise page.closed(page.t["inputs_closed"])
    return pillar


def _pillar(pillar_name: str) -> Pillar | None:
    try:
        return Pillar(pillar_name)
    except ValueError:
        return None


async def _refused(link: Link, pillar_name: str) -> NoReturn:
    """A link that is not an input link, or a pillar that does not exist: said on a page of its reader's."""
    input_target(await link.page(), pillar_name)
    raise AssertionError(f"input_target took {pillar_name!r} on a {link.claims.purpose} link")


async def _form_page(link: Link, pillar_name: str) -> tuple[Page, Pillar]:
    page = await link.page(_pillar(pillar_name))
    return page, input_target(page, pillar_name)


@router.api_route("/{pillar_name}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def input_form(request: Request, link: VerifiedLink, pillar_name: str) -> Response:
    page, pillar = await _form_page(link, pillar_name)
    submitted = page.inputs.submitted.get(pillar)
    revision = submitted.revision if submitted else 0
    current = page.inputs.current
    if current is None:
        return form_page(request, page, pillar, "", [{}], revision)
    rows = [as_row(item.model_dump()) for item in current.items] or [{}]
    return form_page(request, page, pillar, current.summary, rows, revision)


@router.post("/{pillar_name}", response_class=HTMLResponse)
async def submit_input(request: Request, link: VerifiedLink, pillar_name: str, posted: UploadForm) -> Response:
    claims = link.claims
    pillar = _pillar(pillar_name)
    if claims.purpose is not LinkPurpose.PILLAR_INPUT or pillar is None:
        await _refused(link, pillar_name)
    try:
        form = parse_input_form(posted, pillar)
        keep = _keep(posted)
    except MalformedForm:
        raise unreadable(await link.locale()) from None
    uploads = chosen_files(posted)
    if form.action == "add" or form.removed_row is not None:
        page, _ = await _form_page(link, pillar_name)
        rows = form.with_row_added() if form.action == "add" else form.without_removed_row()
        errors = {FILES_FIELD: page.t["files_again"]} if uploads else {}
        return form_page(request, page, pillar, form.summary, rows, form.revision, errors, kept=set(keep))
    reader = await link.reader()
    try:
        submitted = PILLAR_INPUT.validate_python(form.payload(reader.person.party, pillar, claims.recipient))
    except ValidationError as error:
        page, _ = await _form_page(link, pillar_name)
        errors = field_errors(error, page.words)
        if uploads:
            errors[FILES_FIELD] = page.t["files_again"]
        return form_page(request, page, pillar, form.summary, form.rows, form.revision, errors, 422, set(keep))
    t, words = texts(reader.locale), words_for(reader.locale)
    refused = await first_refusal(uploads, t, words)
    if refused is None and len(uploads) + len(keep) > MAX_FILES:
        count = len(uploads) + len(keep)
        refused = Refusal(422, t["too_many_files"].format(n=MAX_FILES, count=count))
    if refused is not None:  # nothing stored, nothing recorded: the form again, saying which file and why
        page, _ = await _form_page(link, pillar_name)
        errors = {FILES_FIELD: refused.message}
        return form_page(
            request, page, pillar, form.summary, form.rows, form.revision, errors, refused.status, set(keep)
        )
    client = await link.client()
    recorded: Recorded = request.app.state.recorded
    try:
        attachments = await record_uploads(
            client.data_converter,
            uploads,
            workflow_id=claims.workflow_id,
            attached_by=claims.recipient,
            recorded=recorded,
        )
    except FileRefused as unattachable:  # what the gateway's own checks let through (they are the same checks)
        page, _ = await _form_page(link, pillar_name)
        errors = {FILES_FIELD: str(unattachable)}
        return form_page(request, page, pillar, form.summary, form.rows, form.revision, errors, 422, set(keep))
    submission = SubmitInputRequest(
        input=submitted.model_copy(update={"attachments": attachments}),
        submitted_by=claims.recipient,
        channel=Channel.EMAIL_LINK,
        keep=keep,
    )
    try:
        record = await links.submit_input_by_link(
            client, claims.workflow_id, submission, after=form.revision, rpc_timeout=link.rpc_timeout
        )
    except (WorkflowUpdateFailedError, RPCError) as failure:
        if isinstance(failure, RPCError) and failure.status is not RPCStatusCode.NOT_FOUND:
            raise  # out of reach (a 503) or a bug (a 500)
        # Refused: the page says why when it can (inputs closed, a pillar off the agenda), else the form
        # again with the workflow's reason. A workflow that has ended (NOT_FOUND) is a closed page.
        page, _ = await _form_page(link, pillar_name)
        cause = failure.cause if isinstance(failure, WorkflowUpdateFailedError) else None
        refusal = cause.message if isinstance(cause, ApplicationError) else str(failure)
        errors = {"": refusal, **({FILES_FIELD: page.t["files_again"]} if uploads else {})}
        return form_page(request, page, pillar, form.summary, form.rows, form.revision, errors, 409, set(keep))
    # Back to the overview with a GET, so reloading the page cannot submit the form again.
    return RedirectResponse(f"/l/{link.token}?recorded={pillar.value}&revision={record.revision}", status_code=303)


_SHA256 = TypeAdapter(Sha256)


def _keep(posted: FormData) -> list[str]:
    """The SHA-256s of the files ticked "keep"; anything else is not what the page sends."""
    values = posted.getlist(KEEP_FIELD)
    if any(not isinstance(v, str) for v in values):
        raise MalformedForm(KEEP_FIELD)
    try:
        return list(dict.fromkeys(_SHA256.validate_python(v) for v in values))
    except ValidationError:
        raise MalformedForm(KEEP_FIELD) from None

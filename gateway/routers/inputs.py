"""Pillar inputs through a link: the party's overview, one form per pillar, its submission."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from gateway.deps import PostedForm, RpcTimeout, TemporalClient, VerifiedPage, unreadable
from gateway.forms import MalformedForm, Row, as_row, field_errors, fields_of, parse_input_form
from gateway.page import Page
from gateway.render import message, render
from operations import links
from schemas.declaration import Pillar
from schemas.links import LinkPurpose
from schemas.pillar_inputs import PILLAR_INPUT, Channel
from schemas.rounds import RoundState, SubmitInputRequest

router = APIRouter(prefix="/l/{token}/input", tags=["inputs"])


def inputs_page(request: Request, page: Page) -> Response:
    """The pillars the reader's party owes this round, each with its state and its form."""
    s = page.status
    if s.state is not RoundState.COLLECTING or s.inputs_closed_at is not None:
        return message(request, 409, page.locale, page.t["closed"], page.t["inputs_closed"])
    row = s.grid.get(page.party.code, {})
    recorded = request.query_params.get("recorded", "")
    notice = ""
    if recorded in {p.value for p in s.pillars}:
        notice = page.t["input_recorded_detail"].format(
            pillar=page.pillar_name(Pillar(recorded)),
            rev=request.query_params.get("revision", "?"),
            when=page.when(next((x.submitted_at for x in reversed(s.submissions)), None)),
        )
    pillars = [
        {
            "name": page.pillar_name(p),
            "state": page.t["submitted"].format(rev=row[p]) if row.get(p) else page.t["missing"],
            "href": f"/l/{page.token}/input/{p.value}",
        }
        for p in s.pillars
    ]
    return render(
        request,
        "inputs.html",
        200,
        page.locale,
        title=page.t["inputs_title"].format(n=s.number),
        consultation_title=page.declaration.title,
        reader=f"{page.person.name} ({page.party.name})",
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
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "input_form.html",
        status,
        page.locale,
        title=f"{page.pillar_name(pillar)} — {page.t['inputs_title'].format(n=page.status.number)}",
        reader=f"{page.person.name} ({page.party.name})",
        due=page.when(page.status.inputs_due),
        summary=summary,
        rows=rows,
        fields=fields_of(pillar),
        labels=page.field_labels,
        errors=errors or {},
        action=f"/l/{page.token}/input/{pillar.value}",
        back=f"/l/{page.token}",
    )


def input_target(page: Page, pillar_name: str) -> Pillar:
    """The pillar a form is for, if this link may still give an input on it."""
    if page.claims.purpose is not LinkPurpose.PILLAR_INPUT:
        raise page.invalid()
    try:
        pillar = Pillar(pillar_name)
    except ValueError:
        raise page.closed(pillar_name, 404) from None
    if pillar not in page.status.pillars:
        raise page.closed(page.pillar_name(pillar), 404)
    if page.status.state is not RoundState.COLLECTING or page.status.inputs_closed_at is not None:
        raise page.closed(page.t["inputs_closed"])
    return pillar


@router.api_route("/{pillar_name}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def input_form(request: Request, page: VerifiedPage, pillar_name: str) -> Response:
    pillar = input_target(page, pillar_name)
    current = next(
        (
            s.input
            for s in page.status.submissions
            if s.superseded_at is None and s.input.party == page.party.code and s.input.pillar is pillar
        ),
        None,
    )
    if current is None:
        return form_page(request, page, pillar, "", [{}])
    rows = [as_row(item.model_dump()) for item in current.items] or [{}]
    return form_page(request, page, pillar, current.summary, rows)


@router.post("/{pillar_name}", response_class=HTMLResponse)
async def submit_input(
    request: Request,
    page: VerifiedPage,
    pillar_name: str,
    posted: PostedForm,
    client: TemporalClient,
    rpc_timeout: RpcTimeout,
) -> Response:
    pillar = input_target(page, pillar_name)
    try:
        form = parse_input_form(posted, pillar)
    except MalformedForm:
        raise unreadable(page.locale) from None
    if form.action == "add":
        return form_page(request, page, pillar, form.summary, form.with_row_added())
    if form.removed_row is not None:
        return form_page(request, page, pillar, form.summary, form.without_removed_row())
    try:
        submitted = PILLAR_INPUT.validate_python(form.payload(page.party.code, pillar, page.claims.recipient))
    except ValidationError as error:
        return form_page(request, page, pillar, form.summary, form.rows, field_errors(error, page.words), 422)
    submission = SubmitInputRequest(input=submitted, submitted_by=page.claims.recipient, channel=Channel.EMAIL_LINK)
    try:
        record = await links.submit_input_by_link(client, page.claims.workflow_id, submission, rpc_timeout=rpc_timeout)
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        refusal = cause.message if isinstance(cause, ApplicationError) else str(failure)
        return form_page(request, page, pillar, form.summary, form.rows, {"": refusal}, 409)
    # Back to the overview with a GET, so reloading the page cannot submit the form again.
    return RedirectResponse(f"/l/{page.token}?recorded={pillar.value}&revision={record.revision}", status_code=303)

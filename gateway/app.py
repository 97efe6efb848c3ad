"""The gateway: the pages behind the links in counterparts' emails.

A thin layer: it verifies a link, reads the workflow it names (queries), shows
a page, and on POST sends one Update to that workflow. GET and HEAD never change
anything (mail scanners open links); the workflow is the source of truth for
whether a decision is still open, so a second click records nothing.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from google.protobuf import json_format
from markupsafe import Markup
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.converter import PayloadCodec
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.documents import markdown_to_html
from activities.wording import PILLAR_NAMES
from gateway.texts import DECISION_WORDS, FIELD_LABELS, OUTCOME_WORDS, TEXTS
from infra import logs
from infra.formatting import display_tz, format_when
from infra.links import LinkError, LinkSigner
from schemas.approvals import ApprovalState, Decision, DecisionRecord, DecisionRequest, DelegateRequest, Outcome
from schemas.consultation import ConsultationStatus, Stage
from schemas.declaration import Counterpart, Declaration, Locale, Party, Pillar, Role
from schemas.documents import DocumentVersion
from schemas.links import LinkClaims, LinkPurpose
from schemas.pillar_inputs import ITEM_MODELS, PILLAR_INPUT, Channel
from schemas.rounds import RoundState, RoundStatus, SubmitInputRequest
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound

# A page answers within seconds: past this, it says "try again" (503) rather than hang.
RPC_TIMEOUT = timedelta(seconds=8)
MAX_ROWS = 200
TOKEN_IN_PATH = re.compile(r"/l/[^/]+")
log = logs.get_logger("gateway")  # items in one pillar input; a form cannot ask for more
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

SECURITY_HEADERS = {
    # Token pages must not be cached or leak their URL to other sites.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}


class Unavailable(Exception):
    """Temporal could not be reached; nothing was recorded."""


ClientProvider = Callable[[], Awaitable[Client]]


@dataclass
class ApprovalView:
    """What an approval page shows and where its decisions go, for minutes and agreement drafts alike."""

    round_number: int | None  # None: the agreement
    approval: ApprovalState | None
    decisions: list[DecisionRecord]
    versions: list[DocumentVersion]
    open: bool
    state: str
    decide: Any  # the typed update method (TechnicalRound.decide or Consultation.decide)
    delegate: Any
    allowed: tuple[Decision, ...]


def _minutes_view(s: RoundStatus) -> ApprovalView:
    return ApprovalView(
        s.number,
        s.approval,
        s.decisions,
        s.minutes,
        s.state is RoundState.MINUTES_APPROVAL,
        s.state.value,
        TechnicalRound.decide,
        TechnicalRound.delegate,
        (Decision.APPROVE, Decision.REQUEST_CHANGES),
    )


def _agreement_view(s: ConsultationStatus) -> ApprovalView:
    return ApprovalView(
        None,
        s.agreement_approval,
        s.agreement_decisions,
        s.drafts,
        s.stage is Stage.AWAITING_APPROVAL,
        s.stage.value,
        Consultation.decide,
        Consultation.delegate,
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
    handle: WorkflowHandle[Any, Any]
    view: ApprovalView | None = None  # approval links
    round_status: RoundStatus | None = None  # round links

    @property
    def status(self) -> RoundStatus:
        if self.round_status is None:  # an agreement link on a round page: refuse as a bad link
            raise PageError(400, "invalid", self.t["invalid_detail"], self.locale)
        return self.round_status

    @property
    def locale(self) -> Locale:
        return self.person.locale

    @property
    def t(self) -> dict[str, str]:
        return TEXTS[self.locale]

    def when(self, moment: Any) -> str:
        return format_when(moment, display_tz(self.declaration.signed_at), self.locale) if moment else ""


class PageError(Exception):
    def __init__(self, status: int, title_key: str, detail: str, locale: Locale = Locale.EN) -> None:
        super().__init__(detail)
        self.status = status
        self.title_key = title_key
        self.detail = detail
        self.locale = locale


def _locale_of(request: Request) -> Locale:
    return Locale.ES if request.headers.get("accept-language", "").lower().startswith("es") else Locale.EN


def _render(request: Request, template: str, status: int, locale: Locale, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"locale": locale.value, "t": TEXTS[locale], **context}, status_code=status
    )


def _message(request: Request, status: int, locale: Locale, title: str, detail: str, **extra: Any) -> HTMLResponse:
    kind = "ok" if status < 300 else "notice"
    return _render(request, "message.html", status, locale, title=title, detail=detail, kind=kind, **extra)


def create_app(
    *,
    signer: LinkSigner,
    clients: ClientProvider,
    codec: PayloadCodec | None = None,
    codec_token: str | None = None,
    ui_origin: str = "http://localhost:8080",
) -> FastAPI:
    """`clients` returns a connected Temporal client (the caller decides how; tests pass their own).

    With `codec` and `codec_token`, `/codec/encode` and `/codec/decode` let the Temporal UI show
    decrypted payloads to operators (CORS limited to `ui_origin`, bearer token required).
    """
    app = FastAPI(title="Consultation gateway", docs_url=None, redoc_url=None, openapi_url=None)
    if codec is not None and codec_token:
        _add_codec_endpoint(app, codec, codec_token, ui_origin)

    class _Headers(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            started = time.monotonic()
            response = await call_next(request)
            response.headers.update(SECURITY_HEADERS)
            # One line a request, with the token cut out of the path: links are credentials.
            log.info(
                "request",
                method=request.method,
                path=TOKEN_IN_PATH.sub("/l/…", request.url.path),
                status=response.status_code,
                ms=round((time.monotonic() - started) * 1000),
            )
            return response

    app.add_middleware(_Headers)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, error: PageError) -> HTMLResponse:
        return _message(request, error.status, error.locale, TEXTS[error.locale][error.title_key], error.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        locale = _locale_of(request)
        return _message(request, error.status_code, locale, TEXTS[locale]["not_found"], TEXTS[locale]["invalid_detail"])

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, _: Unavailable) -> HTMLResponse:
        t = TEXTS[_locale_of(request)]
        response = _message(request, 503, _locale_of(request), t["unavailable"], t["unavailable_detail"])
        response.headers["Retry-After"] = "30"
        return response

    async def load(request: Request, token: str) -> Page:
        locale = _locale_of(request)
        try:
            claims = signer.verify(token)
        except LinkError as error:
            if error.expired and error.claims is not None:
                raise PageError(
                    410,
                    "expired",
                    TEXTS[locale]["expired_detail"].format(
                        when=error.claims.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                        operators=await _operators(error.claims),
                    ),
                    locale,
                ) from None
            raise PageError(400, "invalid", TEXTS[locale]["invalid_detail"], locale) from None
        try:
            client = await clients()
            handle = client.get_workflow_handle(claims.workflow_id)
            view: ApprovalView | None = None
            round_status: RoundStatus | None = None
            if claims.purpose is LinkPurpose.AGREEMENT_APPROVAL:
                declaration = await handle.query(Consultation.declaration, rpc_timeout=RPC_TIMEOUT)
                view = _agreement_view(await handle.query(Consultation.status, rpc_timeout=RPC_TIMEOUT))
            else:
                declaration = await handle.query(TechnicalRound.declaration, rpc_timeout=RPC_TIMEOUT)
                round_status = await handle.query(TechnicalRound.status, rpc_timeout=RPC_TIMEOUT)
                if claims.purpose is LinkPurpose.MINUTES_APPROVAL:
                    view = _minutes_view(round_status)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise PageError(409, "closed", claims.workflow_id, locale) from None
            raise Unavailable from error
        except Exception as error:  # connecting can fail in many ways; all mean "try again"
            raise Unavailable from error
        match = next(((p, c) for p in declaration.parties for c in p.counterparts if c.email == claims.recipient), None)
        if match is None:  # a valid signature for someone no longer in the declaration
            raise PageError(400, "invalid", TEXTS[locale]["invalid_detail"], locale)
        return Page(claims, token, declaration, match[0], match[1], handle, view, round_status)

    async def _operators(claims: LinkClaims) -> str:
        try:
            client = await clients()
            handle = client.get_workflow_handle(claims.workflow_id)
            if claims.purpose is LinkPurpose.AGREEMENT_APPROVAL:
                declaration = await handle.query(Consultation.declaration)
            else:
                declaration = await handle.query(TechnicalRound.declaration)
            return ", ".join(o.email for o in declaration.operators)
        except Exception:
            return "—"

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return _message(
            request, 200, Locale.EN, "Consultation gateway", "Links in consultation emails open their pages here."
        )

    # --- minutes approval ------------------------------------------------------------

    def approval_page(request: Request, page: Page, status: int = 200, error: str = "", comment: str = "") -> Response:
        claims, s = page.claims, page.view
        if s is None:
            raise PageError(400, "invalid", page.t["invalid_detail"], page.locale)
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
                when=page.when(earlier.at),
                name=name,
                decision=DECISION_WORDS[page.locale][earlier.decision.value],
            )
            return _message(request, 409, page.locale, page.t["already"], detail)
        approval = s.approval
        if (
            approval is None
            or approval.version != claims.version
            or approval.outcome is not Outcome.PENDING
            or not s.open
        ):
            if approval and approval.version != claims.version and approval.outcome is Outcome.PENDING and s.open:
                detail = page.t["newer_version"].format(version=approval.version)
            elif approval and approval.version == claims.version:
                detail = OUTCOME_WORDS[page.locale][approval.outcome.value]
            else:
                detail = OUTCOME_WORDS[page.locale].get(s.state, s.state)
            return _message(request, 409, page.locale, page.t["closed"], detail)
        minutes = s.versions[approval.version - 1]
        approvers = {c.email for c in page.party.with_role(Role.APPROVER)}
        is_approver = delegated_by is None and claims.recipient in approvers
        already_forwarded = any(d.approver == claims.recipient for d in (approval.delegations if approval else []))
        colleagues = (
            [c for c in page.party.counterparts if c.email not in approvers]
            if is_approver and not already_forwarded
            else []
        )
        reader = f"{page.person.name} ({page.party.name})"
        if delegated_by is not None:
            reader += ", " + page.t["on_behalf"].format(name=delegated_by.approver_name)
        return _render(
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

    @app.post("/l/{token}/delegate", response_class=HTMLResponse)
    async def delegate(request: Request, token: str) -> Response:
        page = await load(request, token)
        response = approval_page(request, page)
        if response.status_code != 200 or page.view is None:
            return response
        form = await request.form()
        try:
            record = await page.handle.execute_update(
                page.view.delegate,
                DelegateRequest(
                    approver=page.claims.recipient,
                    delegate=str(form.get("delegate", "")),
                    channel=Channel.EMAIL_LINK,
                    recorded_by=page.claims.recipient,
                ),
            )
        except WorkflowUpdateFailedError as failure:
            cause = failure.cause
            return approval_page(request, page, 400, cause.message if isinstance(cause, ApplicationError) else "")
        except RPCError as error:
            raise Unavailable from error
        detail = page.t["forwarded_detail"].format(name=record.delegate_name, version=record.version)
        return _message(request, 200, page.locale, page.t["forwarded"], detail)

    @app.api_route("/l/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def open_link(request: Request, token: str) -> Response:
        page = await load(request, token)
        if page.view is not None:
            return approval_page(request, page)
        return inputs_page(request, page)

    @app.post("/l/{token}/decision", response_class=HTMLResponse)
    async def decide(request: Request, token: str) -> Response:
        page = await load(request, token)
        if page.view is None:
            raise PageError(400, "invalid", page.t["invalid_detail"], page.locale)
        form = await request.form()
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
        request_ = DecisionRequest(
            approver=page.claims.recipient,
            decision=decision,
            sha256=page.claims.sha256 or "",
            comment=comment,
            channel=Channel.EMAIL_LINK,
            recorded_by=page.claims.recipient,
        )
        try:
            record = await page.handle.execute_update(page.view.decide, request_, rpc_timeout=RPC_TIMEOUT)
        except WorkflowUpdateFailedError as failure:
            # Lost a race with another click, or the request closed meanwhile: show what is recorded.
            fresh = await load(request, token)
            response = approval_page(request, fresh)
            if response.status_code != 200:
                return response
            cause = failure.cause
            return approval_page(
                request, fresh, 400, cause.message if isinstance(cause, ApplicationError) else "", comment
            )
        except RPCError as error:
            raise Unavailable from error
        detail = page.t["recorded_detail"].format(
            decision=DECISION_WORDS[page.locale][record.decision.value],
            version=record.version,
            sha=record.sha256,
            when=page.when(record.at),
        )
        return _message(request, 200, page.locale, page.t["recorded"], detail)

    # --- pillar inputs ---------------------------------------------------------------

    def inputs_page(request: Request, page: Page) -> Response:
        s = page.status
        if s.state is not RoundState.COLLECTING or s.inputs_closed_at is not None:
            return _message(request, 409, page.locale, page.t["closed"], page.t["inputs_closed"])
        row = s.grid.get(page.party.code, {})
        recorded = request.query_params.get("recorded", "")
        notice = ""
        if recorded in {p.value for p in s.pillars}:
            notice = page.t["input_recorded_detail"].format(
                pillar=PILLAR_NAMES[page.locale][Pillar(recorded)],
                rev=request.query_params.get("revision", "?"),
                when=page.when(next((x.submitted_at for x in reversed(s.submissions)), None)),
            )
        pillars = [
            {
                "name": PILLAR_NAMES[page.locale][p],
                "state": page.t["submitted"].format(rev=row[p]) if row.get(p) else page.t["missing"],
                "href": f"/l/{page.token}/input/{p.value}",
            }
            for p in s.pillars
        ]
        return _render(
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
        rows: list[dict[str, str]],
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        return _render(
            request,
            "input_form.html",
            status,
            page.locale,
            title=f"{PILLAR_NAMES[page.locale][pillar]} — {page.t['inputs_title'].format(n=page.status.number)}",
            reader=f"{page.person.name} ({page.party.name})",
            due=page.when(page.status.inputs_due),
            summary=summary,
            rows=rows,
            fields=list(ITEM_MODELS[pillar].model_fields),
            labels=FIELD_LABELS[page.locale],
            errors=errors or {},
            action=f"/l/{page.token}/input/{pillar.value}",
            back=f"/l/{page.token}",
        )

    def input_target(page: Page, pillar_name: str) -> Pillar:
        if page.claims.purpose is not LinkPurpose.PILLAR_INPUT:
            raise PageError(400, "invalid", page.t["invalid_detail"], page.locale)
        try:
            pillar = Pillar(pillar_name)
        except ValueError:
            raise PageError(404, "closed", pillar_name, page.locale) from None
        if pillar not in page.status.pillars:
            raise PageError(404, "closed", PILLAR_NAMES[page.locale][pillar], page.locale)
        if page.status.state is not RoundState.COLLECTING or page.status.inputs_closed_at is not None:
            raise PageError(409, "closed", page.t["inputs_closed"], page.locale)
        return pillar

    @app.api_route("/l/{token}/input/{pillar_name}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def input_form(request: Request, token: str, pillar_name: str) -> Response:
        page = await load(request, token)
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
        rows = [_as_row(item.model_dump()) for item in current.items] or [{}]
        return form_page(request, page, pillar, current.summary, rows)

    @app.post("/l/{token}/input/{pillar_name}", response_class=HTMLResponse)
    async def submit_input(request: Request, token: str, pillar_name: str) -> Response:
        page = await load(request, token)
        pillar = input_target(page, pillar_name)
        form = await request.form()
        fields = list(ITEM_MODELS[pillar].model_fields)
        rows_field = str(form.get("rows", "0"))
        count = min(int(rows_field), MAX_ROWS) if rows_field.isdigit() else 0
        rows = [{f: str(form.get(f"items-{i}-{f}", "")) for f in fields} for i in range(count)]
        summary = str(form.get("summary", ""))
        action = str(form.get("action", "submit"))
        if action == "add":
            return form_page(request, page, pillar, summary, [*rows, {}][:MAX_ROWS])
        if action.startswith("remove-") and action.removeprefix("remove-").isdigit():
            index = int(action.removeprefix("remove-"))
            return form_page(request, page, pillar, summary, [r for i, r in enumerate(rows) if i != index])
        items = [_as_item(row) for row in rows if any(v.strip() for v in row.values())]
        payload = {
            "party": page.party.code,
            "pillar": pillar.value,
            "author": page.claims.recipient,
            "summary": summary,
            "items": items,
        }
        try:
            submitted = PILLAR_INPUT.validate_python(payload)
        except ValidationError as error:
            return form_page(request, page, pillar, summary, rows, _field_errors(error), 422)
        try:
            record = await page.handle.execute_update(
                TechnicalRound.submit_input,
                SubmitInputRequest(input=submitted, submitted_by=page.claims.recipient, channel=Channel.EMAIL_LINK),
            )
        except WorkflowUpdateFailedError as failure:
            cause = failure.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(failure)
            return form_page(request, page, pillar, summary, rows, {"": message}, 409)
        except RPCError as error:
            raise Unavailable from error
        # Back to the overview with a GET, so reloading the page cannot submit the form again.
        return RedirectResponse(f"/l/{token}?recorded={pillar.value}&revision={record.revision}", status_code=303)

    return app


def _add_codec_endpoint(app: FastAPI, codec: PayloadCodec, token: str, ui_origin: str) -> None:
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[ui_origin],
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )

    async def transform(request: Request, direction: str) -> Response:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
            method = codec.encode if direction == "encode" else codec.decode
            result = Payloads(payloads=await method(list(payloads.payloads)))
        except Exception:  # malformed input or a key no longer listed: say so, never a 500 with details
            return JSONResponse({"error": f"the payloads could not be {direction}d"}, status_code=400)
        return Response(json_format.MessageToJson(result), media_type="application/json")

    @app.post("/codec/encode")
    async def encode(request: Request) -> Response:
        return await transform(request, "encode")

    @app.post("/codec/decode")
    async def decode(request: Request) -> Response:
        return await transform(request, "decode")


def _as_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        # Floats as typed (1200000000, not 1.2e+09): the form shows them back to be edited.
        k: ", ".join(v) if isinstance(v, list) else f"{v:f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
        for k, v in item.items()
    }


NUMBER_FIELDS = {"estimated_investment_usd", "amount_usd", "volume_tonnes_per_year", "public_share_pct"}


def _as_item(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {k: v.strip() for k, v in row.items()}
    if "minerals" in item:
        item["minerals"] = [m.strip() for m in item["minerals"].split(",") if m.strip()]
    for field in NUMBER_FIELDS & item.keys():
        item[field] = plain_number(item[field])
    return item


def plain_number(text: str) -> str:
    """A number as people type it, in either convention: 1.200.000,50 / 1,200,000.50 / 60,5 -> 1200000.50, 60.5."""
    text = "".join(text.split()).replace("\u00a0", "")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return text.replace(thousands, "").replace(decimal, ".")
    for sep in (",", "."):
        if sep in text:
            head, _, tail = text.rpartition(sep)
            # One separator followed by exactly three digits groups thousands; otherwise it marks decimals.
            if text.count(sep) > 1 or (len(tail) == 3 and tail.isdigit() and head.replace(sep, "").isdigit()):
                return text.replace(sep, "")
            return text.replace(sep, ".")
    return text


def _field_errors(error: ValidationError) -> dict[str, str]:
    """`summary` or `items.<i>.<field>` -> message, to show beside the field the person typed in."""
    errors: dict[str, str] = {}
    for e in error.errors(include_url=False):
        loc = [str(part) for part in e["loc"]]
        if loc and loc[0] in {p.value for p in Pillar}:
            loc = loc[1:]  # the union's tag, not a field
        if len(loc) > 3 and loc[0] == "items":
            loc = loc[:3]  # a mineral inside the minerals list: show it on the list's field
        errors.setdefault(".".join(loc), e["msg"].removeprefix("Value error, "))
    return errors

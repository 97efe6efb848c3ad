"""Shared test helpers: declarations, a worker on a fresh task queue, reading the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.documents import MinutesRequest
from consult.outbox import Outbox
from infra.links import LinkSigner
from infra.settings import SmtpSettings
from operations.consultations import start
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import ConsultationStatus, OpenRoundRequest, StartDraftingRequest, SubmitDraftRequest
from schemas.declaration import Declaration, Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT, PillarInput
from schemas.rounds import RoundState, RoundStatus, SubmitInputRequest
from workers.main import build_worker
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound, round_workflow_id

CL_OPERATOR = "secretariat@minrel.example"
US_OPERATOR = "secretariat@state.example"
DAY = timedelta(days=1)
# The SDK waits 5 s for a test server to answer; on a shared 2-core machine a start has taken
# longer (the session's dev server once, which errored every test that needed it).
SERVER_STARTUP = timedelta(seconds=60)


def declaration_data(signed_at: datetime | str, **overrides: Any) -> dict[str, Any]:
    """A valid declaration as a user would write it (plain data), with a unique id."""
    data: dict[str, Any] = {
        "id": f"test-{uuid.uuid4().hex[:10]}",
        "title": "Joint Declaration on Critical Minerals and Rare Earths",
        "signed_at": signed_at if isinstance(signed_at, str) else signed_at.isoformat(),
        "operators": [
            {"email": CL_OPERATOR, "name": "Secretaría MINREL", "locale": "es"},
            US_OPERATOR,
        ],
        "parties": [
            {
                "code": "CL",
                "name": "República de Chile",
                "approval": "any",
                "counterparts": [
                    {
                        "name": "Valentina Rojas",
                        "email": "vrojas@minrel.example",
                        "roles": ["technical_lead"],
                        "locale": "es",
                    },
                    {
                        "name": "Carolina Fuentes",
                        "email": "cfuentes@minrel.example",
                        "roles": ["approver"],
                        "locale": "es",
                    },
                ],
            },
            {
                "code": "US",
                "name": "United States of America",
                "approval": "all",
                "counterparts": [
                    {
                        "name": "Michael Turner",
                        "email": "mturner@state.example",
                        "roles": ["technical_lead", "approver"],
                        "locale": "en",
                    },
                ],
            },
        ],
    }
    data.update(overrides)
    return data


def make_declaration(signed_at: datetime, **overrides: Any) -> Declaration:
    return Declaration.model_validate(declaration_data(signed_at, **overrides))


def everyone(declaration: Declaration) -> set[str]:
    return {c.email for p in declaration.parties for c in p.counterparts} | {o.email for o in declaration.operators}


@asynccontextmanager
async def running_worker(
    client: Client, outbox: Outbox, links: LinkSigner | None = None, gateway_url: str = ""
) -> AsyncIterator[str]:
    """A real worker (real mail activity) on a fresh task queue; yields the task queue."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    smtp = SmtpSettings(host=outbox.host, port=outbox.port)
    async with build_worker(client, task_queue, smtp, links, gateway_url):
        yield task_queue


async def start_with_round(
    client: Client, declaration: Declaration, task_queue: str, pillars: list[Pillar]
) -> tuple[WorkflowHandle[Any, ConsultationStatus], WorkflowHandle[Any, RoundStatus]]:
    """A consultation started, its opening notice sent, and round 1 opened on `pillars`
    (inputs due 8 days and the meeting 10 days after the signature)."""
    handle = await start(client, declaration, task_queue)
    await delivered(handle, "opened")
    signed = declaration.signed_at
    await handle.execute_update(
        Consultation.open_round,
        OpenRoundRequest(
            meeting_at=signed + timedelta(days=10),
            inputs_due=signed + timedelta(days=8),
            pillars=pillars,
            requested_by=CL_OPERATOR,
        ),
    )
    return handle, client.get_workflow_handle_for(TechnicalRound.run, round_workflow_id(handle.id, 1))


def mail_of(outbox: Outbox, consultation_id: str) -> list[EmailMessage]:
    return [m for m in outbox.messages() if m["X-Consultation-Id"] == consultation_id]


def notices_of(outbox: Outbox, consultation_id: str, kind: str) -> list[EmailMessage]:
    return [m for m in mail_of(outbox, consultation_id) if m["X-Consultation-Notice"] == kind]


def body(message: EmailMessage, subtype: str = "plain") -> str:
    """The text of one alternative of a received message (plain or html)."""
    part = message.get_body((subtype,))
    assert part is not None, f"the message has no text/{subtype} part"
    content: str = part.get_content()
    return content


def recipients(messages: list[EmailMessage]) -> set[str]:
    return {m["To"].addresses[0].addr_spec for m in messages}


async def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Retries `check` (sync or async) until it returns a truthy value without raising.

    The bound is for a shared 2-core machine (a workflow's first task can take seconds there); how fast
    things happen is measured by `make bench`, not asserted here.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            last: Exception | None = None
        except AssertionError as error:
            last = error
        if asyncio.get_running_loop().time() > deadline:
            if last:
                raise last
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def received(outbox: Outbox, consultation_id: str, kind: str, count: int) -> list[EmailMessage]:
    """Waits until the outbox holds `count` messages of that notice kind, and returns them.

    A notice is delivered beside the lifecycle: a final one (concluded, withdrawn)
    may land after its workflow has ended, so a test waits for it while the worker runs.
    """

    def check() -> list[EmailMessage] | None:
        messages = notices_of(outbox, consultation_id, kind)
        return messages if len(messages) >= count else None

    result: list[EmailMessage] = await eventually(check)
    return result


async def delivered(handle: WorkflowHandle[Any, ConsultationStatus], kind: str, count: int = 1) -> ConsultationStatus:
    """Waits until `count` notices of `kind` are recorded as delivered, and returns the status."""

    async def check() -> ConsultationStatus | None:
        status = await handle.query(Consultation.status)
        done = [n for n in status.notices if n.kind == kind and n.delivered]
        return status if len(done) >= count else None

    result: ConsultationStatus = await eventually(check)
    return result


# --- technical rounds and the agreement (two approvers in US, `all`) ------------------------

AGENDA = [Pillar.SUPPLY_CHAIN, Pillar.FINANCING]
CL_LEAD, CL_APPROVER = "vrojas@minrel.example", "cfuentes@minrel.example"
US_LEAD, US_APPROVER_2 = "mturner@state.example", "dpark@doe.example"
ITEMS: dict[Pillar, list[dict[str, Any]]] = {
    Pillar.SUPPLY_CHAIN: [{"mineral": "Litio", "risk": "Refining concentration", "measure": "Joint offtake"}],
    Pillar.FINANCING: [{"instrument": "Loan guarantee", "amount_usd": 400_000_000, "public_share_pct": 50}],
}


def two_approver_declaration(signed_at: datetime) -> Declaration:
    """CL approves with `any` (one approver), US with `all` (two approvers)."""
    data = declaration_data(signed_at)
    data["parties"][1]["counterparts"].append(
        {"name": "David Park", "email": US_APPROVER_2, "roles": ["approver"], "locale": "en"}
    )
    return Declaration.model_validate(data)


def submission(
    party: str, pillar: Pillar, author: str, summary: str = "Our position", **extra: Any
) -> SubmitInputRequest:
    payload = {"party": party, "pillar": pillar.value, "author": author, "summary": summary, "items": ITEMS[pillar]}
    return SubmitInputRequest(input=PILLAR_INPUT.validate_python({**payload, **extra}), submitted_by=CL_OPERATOR)


class Round:
    """A consultation with round 1 open, and handles on both workflows."""

    def __init__(self, client: Client, consultation: WorkflowHandle[Any, ConsultationStatus], number: int = 1) -> None:
        self.consultation = consultation
        self.handle = client.get_workflow_handle_for(TechnicalRound.run, round_workflow_id(consultation.id, number))

    async def status(self) -> RoundStatus:
        return await self.handle.query(TechnicalRound.status)

    async def in_state(self, state: RoundState) -> RoundStatus:
        async def check() -> RoundStatus | None:
            current = await self.status()
            return current if current.state is state else None

        result: RoundStatus = await eventually(check)
        return result

    async def submit(self, request: SubmitInputRequest) -> None:
        await self.handle.execute_update(TechnicalRound.submit_input, request)

    async def decide(
        self, approver: str, decision: Decision = Decision.APPROVE, comment: str = "", sha: str = ""
    ) -> None:
        sha = sha or (await self.status()).minutes[-1].sha256
        await self.handle.execute_update(
            TechnicalRound.decide,
            DecisionRequest(approver=approver, decision=decision, sha256=sha, comment=comment, recorded_by=CL_OPERATOR),
        )


async def open_round(
    env: WorkflowEnvironment, declaration: Declaration, task_queue: str, inputs_due_day: int = 8
) -> Round:
    handle = await start(env.client, declaration, task_queue)
    await delivered(handle, "opened")
    signed = declaration.signed_at
    await handle.execute_update(
        Consultation.open_round,
        OpenRoundRequest(
            meeting_at=signed + 10 * DAY,
            inputs_due=signed + inputs_due_day * DAY,
            pillars=AGENDA,
            requested_by=CL_OPERATOR,
        ),
    )
    round_ = Round(env.client, handle)
    await eventually(lambda: round_exists(round_))
    return round_


async def round_exists(round_: Round) -> bool:
    try:
        await round_.status()
        return True
    except Exception:
        return False


async def submit_all(round_: Round) -> None:
    for pillar in AGENDA:
        await round_.submit(submission("CL", pillar, CL_LEAD))
        await round_.submit(submission("US", pillar, US_LEAD))


async def round_closed(handle: WorkflowHandle[Any, ConsultationStatus]) -> ConsultationStatus | None:
    status = await handle.query(Consultation.status)
    return status if status.rounds and status.rounds[0].state is RoundState.CLOSED else None


async def close_round_with_approval(round_: Round) -> None:
    """Every input submitted, then the minutes approved by every approver."""
    await submit_all(round_)
    await round_.in_state(RoundState.MINUTES_APPROVAL)
    for approver in APPROVERS:
        await round_.decide(approver)
    await round_.handle.result()


APPROVERS = (CL_APPROVER, US_LEAD, US_APPROVER_2)


async def drafting(
    env: WorkflowEnvironment, declaration: Declaration, task_queue: str
) -> WorkflowHandle[Any, ConsultationStatus]:
    """A consultation whose one round is closed and whose agreement is being drafted."""
    round_ = await open_round(env, declaration, task_queue)
    await close_round_with_approval(round_)
    await eventually(lambda: round_closed(round_.consultation))
    await round_.consultation.execute_update(
        Consultation.start_drafting, StartDraftingRequest(requested_by=CL_OPERATOR)
    )
    return round_.consultation


async def submit(handle: WorkflowHandle[Any, ConsultationStatus], en: str, es: str) -> str:
    draft = await handle.execute_update(
        Consultation.submit_draft,
        SubmitDraftRequest(documents={Locale.EN: en, Locale.ES: es}, requested_by=CL_OPERATOR),
    )
    return draft.sha256


async def decide(
    handle: WorkflowHandle[Any, ConsultationStatus],
    approver: str,
    sha: str,
    decision: Decision = Decision.APPROVE,
    comment: str = "",
) -> None:
    await handle.execute_update(
        Consultation.decide,
        DecisionRequest(approver=approver, decision=decision, sha256=sha, comment=comment, recorded_by=CL_OPERATOR),
    )


def minutes_request(inputs: list[PillarInput], pillars: list[Pillar], missing: list[str]) -> MinutesRequest:
    """What a round of the founding case asks the minutes activity for, with these inputs."""
    return MinutesRequest(
        title="Joint Declaration",
        number=1,
        meeting_at=datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
        inputs_closed_at=datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
        close_reason="inputs due date reached",
        utc_offset_minutes=-180,
        parties={"CL": "República de Chile", "US": "United States of America"},
        pillars=pillars,
        inputs=inputs,
        missing=missing,
    )

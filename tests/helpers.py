"""Shared test helpers: declarations, a worker on a fresh task queue, reading the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from temporalio.client import Client, WorkflowHandle

from consult.outbox import Outbox
from infra.links import LinkSigner
from infra.settings import SmtpSettings
from operations.consultations import start
from schemas.consultation import ConsultationStatus, OpenRoundRequest
from schemas.declaration import Declaration, Pillar
from schemas.rounds import RoundStatus
from workers.main import build_worker
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound, round_workflow_id

CL_OPERATOR = "secretariat@minrel.example"
US_OPERATOR = "secretariat@state.example"


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


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Retries `check` (sync or async) until it returns a truthy value without raising."""
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


async def delivered(handle: WorkflowHandle[Any, ConsultationStatus], kind: str, count: int = 1) -> ConsultationStatus:
    """Waits until `count` notices of `kind` are recorded as delivered, and returns the status."""

    async def check() -> ConsultationStatus | None:
        status = await handle.query(Consultation.status)
        done = [n for n in status.notices if n.kind == kind and n.delivered]
        return status if len(done) >= count else None

    result: ConsultationStatus = await eventually(check)
    return result

"""An operator's calendar feed: every upcoming meeting and deadline of the consultations they run.

Reads only. Operators are not a search attribute, so the running consultations are listed
through visibility (at most MAX_CONSULTATIONS) and each run's declaration is read once from the
start of its history, which needs no worker; only the consultations the operator runs are
then queried (status, and their open round's), a few at a time. Every call carries the
caller's `rpc_timeout`; any failure is raised as the SDK raises it, so the gateway answers
503 and a calendar app keeps its last copy, rather than a feed missing events it would delete.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.calendar import FeedSource, calendar, feed_events
from infra.formatting import display_tz
from infra.i18n import Words
from operations.links import round_for_link
from schemas.consultation import ConsultationInput, ConsultationStatus
from schemas.declaration import Declaration, Locale
from schemas.rounds import RoundState
from workflows.consultation import Consultation

# A feed reads at most this many running consultations (listing is by visibility, newest first).
MAX_CONSULTATIONS = 500
# How many consultations are read at once.
CONCURRENCY = 8
RUNNING = "WorkflowType = 'Consultation' AND ExecutionStatus = 'Running'"
# A run's declaration never changes, and calendar apps poll: each run's is read from its history
# once per process, not on every poll (None: the run is not a consultation's).
_DECLARATIONS: dict[tuple[str, str], Declaration | None] = {}


async def operator_feed(client: Client, operator: str, *, domain: str, now: datetime, rpc_timeout: timedelta) -> bytes:
    """The `.ics` of `operator`'s feed (an empty calendar when they run nothing open)."""
    operator = operator.lower()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def read(workflow_id: str, run_id: str) -> tuple[FeedSource, Locale] | None:
        async with gate:
            key = (workflow_id, run_id)
            if key not in _DECLARATIONS:
                if len(_DECLARATIONS) >= 4 * MAX_CONSULTATIONS:
                    _DECLARATIONS.clear()
                _DECLARATIONS[key] = await _declaration(client, workflow_id, run_id, rpc_timeout)
            declaration = _DECLARATIONS[key]
            if declaration is None:
                return None
            runs = next((o for o in declaration.operators if o.email.lower() == operator), None)
            if runs is None:
                return None
            return await _source(client, workflow_id, declaration, rpc_timeout), runs.locale

    listed = client.list_workflows(RUNNING, limit=MAX_CONSULTATIONS, rpc_timeout=rpc_timeout)
    runs = [(execution.id, execution.run_id) async for execution in listed]
    found = [f for f in await asyncio.gather(*(read(*run) for run in runs)) if f is not None]
    events = [e for source, locale in found for e in feed_events(source, Words(locale), domain, now)]
    events.sort(key=lambda e: (e.start, e.uid))
    first_tz = found[0][0].tz if found else display_tz(now)
    return calendar(events, first_tz, "PUBLISH", name=f"Consultations — {operator}")


async def _declaration(client: Client, workflow_id: str, run_id: str, rpc_timeout: timedelta) -> Declaration | None:
    """The declaration in the consultation's input: the first event of its history (no worker needed)."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events(page_size=1, rpc_timeout=rpc_timeout):
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return None
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        (input_,) = await client.data_converter.decode(payloads, [ConsultationInput])
        return input_.declaration if isinstance(input_, ConsultationInput) else None
    return None


async def _source(client: Client, workflow_id: str, declaration: Declaration, rpc_timeout: timedelta) -> FeedSource:
    handle = client.get_workflow_handle_for(Consultation.run, workflow_id)
    status: ConsultationStatus = await handle.query(Consultation.status, rpc_timeout=rpc_timeout)
    open_ = [r for r in status.rounds if r.state is not RoundState.CLOSED and r.workflow_id]
    round_ = await round_for_link(client, open_[-1].workflow_id, rpc_timeout=rpc_timeout) if open_ else None
    return FeedSource(status, round_, display_tz(declaration.signed_at))

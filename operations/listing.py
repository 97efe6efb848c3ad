"""Listing consultations and review schedules: what `consult list` shows, as rows of plain values.

Light to import, unlike `operations.consultations`: no pydantic model and no schema but the search
attributes' names, so `consult list` loads neither. A listing is one visibility request per page of
1,000; each row is read straight from the server's answer (the attributes `list` shows, decoded once),
not built into an SDK `WorkflowExecution` first (which decodes every attribute twice).
"""

from __future__ import annotations

import asyncio
from datetime import UTC

from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import decode_typed_search_attributes

from schemas import search_attributes as sa

# The consultation workflow's name (`operations.consultations` takes it from here).
CONSULTATION = "Consultation"
PAGE_SIZE = 1000

Row = dict[str, object]


async def listing(client: Client, *, stage: str | None = None, overdue: bool = False) -> tuple[list[Row], list[Row]]:
    """The consultations (`consultation_rows`), and the review schedules when no filter is given: together."""
    if stage is not None or overdue:
        return await consultation_rows(client, stage=stage, overdue=overdue), []
    rows, schedules = await asyncio.gather(consultation_rows(client), review_schedule_rows(client))
    return rows, schedules


async def consultation_rows(client: Client, *, stage: str | None = None, overdue: bool = False) -> list[Row]:
    """Every consultation (those in `stage`, overdue ones), one row each: one visibility listing, nothing
    asked per row. `stage` is a `schemas.consultation.Stage` value."""
    query = f"WorkflowType = '{CONSULTATION}'"
    if stage is not None:
        query += f" AND {sa.STAGE.name} = '{stage}'"
    if overdue:
        query += f" AND {sa.OVERDUE.name} = true"
    rows: list[Row] = []
    token = b""
    while True:
        page = await client.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(
                namespace=client.namespace, query=query, page_size=PAGE_SIZE, next_page_token=token
            )
        )
        for info in page.executions:
            # The SDK's own decoding, so a row says what `WorkflowExecution.typed_search_attributes` would.
            attrs = decode_typed_search_attributes(info.search_attributes)
            deadline = attrs.get(sa.NEXT_DEADLINE)
            workflow_id = info.execution.workflow_id
            rows.append(
                {
                    "kind": "consultation",
                    "id": workflow_id.removeprefix("consultation-"),
                    "workflow_id": workflow_id,
                    "status": WorkflowExecutionStatus(info.status).name.lower() if info.status else "unknown",
                    "stage": attrs.get(sa.STAGE),
                    "overdue": attrs.get(sa.OVERDUE),
                    "next_deadline": deadline.astimezone(UTC).isoformat() if deadline else None,
                    "parties": list(attrs.get(sa.PARTIES) or []),
                    "started": info.start_time.ToDatetime().replace(tzinfo=UTC).isoformat(),
                }
            )
        token = page.next_page_token
        if not token:
            return rows


async def review_schedule_rows(client: Client) -> list[Row]:
    """The Schedules that open review rounds of concluded agreements (described together, not one by one)."""
    ids = [listed.id async for listed in await client.list_schedules() if listed.id.startswith("review-")]
    descriptions = await asyncio.gather(*(client.get_schedule_handle(id).describe() for id in ids))
    rows: list[Row] = []
    for id, description in zip(ids, descriptions, strict=True):
        intervals = description.schedule.spec.intervals
        upcoming = description.info.next_action_times
        rows.append(
            {
                "kind": "review_schedule",
                "id": id,
                "consultation": id.removeprefix("review-"),
                "every_days": intervals[0].every.days if intervals else None,
                "next_run": upcoming[0].isoformat() if upcoming else None,
                "runs": description.info.num_actions,
            }
        )
    return rows

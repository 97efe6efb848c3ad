"""What someone monitoring sees on the dev server: search attributes, summaries, visibility queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from operations import consultations as operations
from operations.consultations import start
from schemas import search_attributes as sa
from schemas.declaration import Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import SubmitInputRequest
from tests.helpers import CL_OPERATOR, delivered, eventually, make_declaration, running_worker, start_with_round
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound

DAY = timedelta(days=1)


async def test_overdue_consultations_are_found_by_a_visibility_query(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    late = make_declaration(now - 20 * DAY)
    fresh = make_declaration(now)
    async with running_worker(client, outbox) as task_queue:
        late_handle = await start(client, late, task_queue)
        await start(client, fresh, task_queue)
        await delivered(late_handle, "escalation")

        async def overdue_ids() -> set[str] | None:
            ids = {w.id async for w in client.list_workflows(f"{sa.OVERDUE.name} = true")}
            return ids if late.workflow_id in ids else None

        found = await eventually(overdue_ids)
        assert fresh.workflow_id not in found

        description = await late_handle.describe()
        attrs = description.typed_search_attributes
        assert attrs.get(sa.STAGE) == "declared"
        assert attrs.get(sa.OVERDUE) is True
        assert list(attrs.get(sa.PARTIES) or []) == ["CL", "US"]
        assert attrs.get(sa.NEXT_DEADLINE) == late.first_round_deadline
        assert await description.static_summary() == f"{late.title} (CL – US)"
        details = await description.static_details()
        assert details is not None and "First round within 15 days" in details


async def test_an_open_round_shows_its_number_and_grid(dev_env: WorkflowEnvironment, outbox: Outbox) -> None:
    client = dev_env.client
    now = await dev_env.get_current_time()
    declaration = make_declaration(now)
    async with running_worker(client, outbox) as task_queue:
        handle, round_handle = await start_with_round(
            client, declaration, task_queue, [Pillar.SUPPLY_CHAIN, Pillar.FINANCING]
        )
        submission = PILLAR_INPUT.validate_python(
            {"party": "CL", "pillar": "financing", "author": "vrojas@minrel.example", "summary": "Blended facility"}
        )
        await eventually(lambda: _accepts(round_handle, SubmitInputRequest(input=submission, submitted_by=CL_OPERATOR)))

        async def shown() -> tuple[Any, str, str] | None:
            attrs = (await handle.describe()).typed_search_attributes
            metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
            live = await round_handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
            shows = attrs.get(sa.ROUND) == 1 and "| CL | — | ✓ |" in live.current_details
            return (attrs, metadata.current_details, live.current_details) if shows else None

        attrs, details, round_details = await eventually(shown)
        round_description = await round_handle.describe()

    assert attrs.get(sa.STAGE) == "technical_rounds"
    # The round shows its grid live; the consultation shows the round and points to it for the live grid
    # (inputs reach the consultation with the round's next change of state: patch quiet-history).
    assert "supply_chain" in round_details and "financing" in round_details and "| US | — | — |" in round_details
    assert "**Round 1** (collecting)" in details and f"live in the round's own workflow `{round_handle.id}`" in details
    assert await round_description.static_summary() == f"Round 1 of {declaration.id}: supply_chain, financing"


async def _accepts(handle: WorkflowHandle[Any, Any], request: SubmitInputRequest) -> bool:
    try:
        await handle.execute_update(TechnicalRound.submit_input, request)
        return True
    except RPCError:
        return False  # the round is still starting


async def test_consult_status_shows_a_collecting_rounds_inputs_as_they_come(
    dev_env: WorkflowEnvironment, outbox: Outbox
) -> None:
    """The round reports its grid only with its next change of state; the operator's status reads it live."""
    client = dev_env.client
    declaration = make_declaration(await dev_env.get_current_time())
    async with running_worker(client, outbox) as task_queue:
        handle, round_handle = await start_with_round(client, declaration, task_queue, [Pillar.FINANCING])
        submission = PILLAR_INPUT.validate_python(
            {"party": "CL", "pillar": "financing", "author": "vrojas@minrel.example", "summary": "Blended facility"}
        )
        await eventually(lambda: _accepts(round_handle, SubmitInputRequest(input=submission, submitted_by=CL_OPERATOR)))
        recorded = await handle.query(Consultation.status)
        read = await operations.status(client, declaration.id)

    assert recorded.rounds[0].grid["CL"][Pillar.FINANCING] == 0  # not signalled for one input
    assert read.rounds[0].grid["CL"][Pillar.FINANCING] == 1 and read.rounds[0].missing == ["US/financing"]

"""What someone monitoring sees on the dev server: search attributes, summaries, visibility queries."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from consult.outbox import Outbox
from schemas import search_attributes as sa
from tests.helpers import delivered, eventually, make_declaration, running_worker, start

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

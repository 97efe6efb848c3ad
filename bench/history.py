"""What one lifecycle leaves in Temporal's history: events and bytes per workflow, and where they go.

A workflow's bytes are the sum of its serialized `HistoryEvent`s (`len(event.SerializeToString())`).
Its children are found from its own `ChildWorkflowExecutionStarted` events (a consultation's rounds
and notice deliveries, a round's deliveries), so nothing depends on visibility.

Also counted: search-attribute upserts that change nothing (every attribute they set already had that
value), and large payloads (≥ 1 KB) carried again in a later event, here or in another workflow of the
same lifecycle (a document stored twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus

BIG_PAYLOAD = 1024


@dataclass
class WorkflowHistory:
    workflow_id: str
    workflow_type: str
    events: list[HistoryEvent]

    @property
    def bytes(self) -> int:
        return sum(len(e.SerializeToString()) for e in self.events)


def _payload_key(payload: Payload) -> tuple[bytes, tuple[tuple[str, bytes], ...]]:
    return payload.data, tuple(sorted(payload.metadata.items()))


def noop_upserts(events: list[HistoryEvent]) -> tuple[int, int]:
    """(upserts that set nothing new, all upserts) in one workflow's history."""
    current: dict[str, Any] = {}
    noop = total = 0
    for event in events:
        if event.HasField("workflow_execution_started_event_attributes"):
            fields = event.workflow_execution_started_event_attributes.search_attributes.indexed_fields
            current.update({k: _payload_key(v) for k, v in fields.items()})
        elif event.HasField("upsert_workflow_search_attributes_event_attributes"):
            total += 1
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            values = {k: _payload_key(v) for k, v in fields.items()}
            if all(current.get(k) == v for k, v in values.items()):
                noop += 1
            current.update(values)
    return noop, total


def payloads(message: Message) -> list[Payload]:
    """Every `Payload` anywhere inside a message."""
    found: list[Payload] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            values = list(value.values())
            if values and not isinstance(values[0], Message):
                continue
        elif descriptor.is_repeated:
            values = list(value)
        else:
            values = [value]
        for item in values:
            if isinstance(item, Payload):
                found.append(item)
            else:
                found.extend(payloads(item))
    return found


@dataclass
class Breakdown:
    workflows: list[WorkflowHistory] = field(default_factory=list)

    def of(self, *types: str) -> list[WorkflowHistory]:
        return [w for w in self.workflows if w.workflow_type in types] if types else self.workflows

    def events(self, *types: str) -> int:
        return sum(len(w.events) for w in self.of(*types))

    def bytes(self, *types: str) -> int:
        return sum(w.bytes for w in self.of(*types))

    def noop_upserts(self, *types: str) -> tuple[int, int]:
        counts = [noop_upserts(w.events) for w in self.of(*types)]
        return sum(n for n, _ in counts), sum(t for _, t in counts)

    def repeated_payload_bytes(self, *types: str) -> int:
        """Bytes of payloads of ≥ 1 KB whose exact content an earlier event (of these workflows) already carried."""
        seen: set[bytes] = set()
        repeated = 0
        for w in self.of(*types):
            for event in w.events:
                for p in payloads(event):
                    if len(p.data) < BIG_PAYLOAD:
                        continue
                    digest = hashlib.sha256(p.data).digest()
                    if digest in seen:
                        repeated += len(p.data)
                    seen.add(digest)
        return repeated

    def event_types(self, *types: str, top: int = 8) -> list[tuple[str, int, int]]:
        """(event type, count, bytes) of the heaviest event types."""
        count: Counter[str] = Counter()
        size: Counter[str] = Counter()
        for w in self.of(*types):
            for e in w.events:
                name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
                count[name] += 1
                size[name] += len(e.SerializeToString())
        return [(name, count[name], b) for name, b in size.most_common(top)]


async def settled(client: Client, workflow_id: str, limit: float = 180) -> None:
    """Until the workflow is no longer running (a notice delivery still sending, say)."""
    deadline = time.monotonic() + limit
    handle = client.get_workflow_handle(workflow_id)
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{workflow_id} still running after {limit:.0f} s")
        await asyncio.sleep(0.25)


async def fetch(client: Client, workflow_id: str) -> WorkflowHistory:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events = list(history.events)
    first = events[0].workflow_execution_started_event_attributes
    return WorkflowHistory(workflow_id, first.workflow_type.name, events)


async def lifecycle(client: Client, root_workflow_id: str, *, wait: bool = True) -> Breakdown:
    """The root workflow and every workflow started under it, each once finished (with `wait`)."""
    found = Breakdown()
    pending = [root_workflow_id]
    seen: set[str] = set()
    while pending:
        workflow_id = pending.pop(0)
        if workflow_id in seen:
            continue
        seen.add(workflow_id)
        if wait:
            await settled(client, workflow_id)
        history = await fetch(client, workflow_id)
        found.workflows.append(history)
        for event in history.events:
            if event.HasField("child_workflow_execution_started_event_attributes"):
                pending.append(event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id)
    return found

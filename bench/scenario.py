"""The consultation the benchmark drives, through the operations API, as an operator's client does.

The founding case's shape (examples/chile-us-2026.yaml): two parties, four pillars, eight people
(two operators, six counterparts), approvers CL `any` (one) and US `all` (two). A round is opened on
all four pillars, each party's technical lead's input on each (8 inputs, the example files' items),
then each approver decides on the minutes (3); the agreement is drafting started, one draft
submitted, each approver approves it (3). One round plus the agreement is 17 updates; each more
round adds 12.

Every action a person would see fail is counted in a `Tally`: a timeout (an update with no answer in
time, a query no worker answered) or any other error; the action is then retried with the same
request, as an operator would (so an update id derived from the request makes it apply once).
Duplicates (an input or a decision recorded twice) are counted from what the workflows recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from operations import consultations as operations
from schemas.approvals import Decision, DecisionRequest
from schemas.consultation import OpenRoundRequest, Stage, StartDraftingRequest, SubmitDraftRequest
from schemas.declaration import Declaration, Locale, Pillar
from schemas.pillar_inputs import PILLAR_INPUT
from schemas.rounds import RoundState, SubmitInputRequest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SANTIAGO = timezone(timedelta(hours=-3))
OPERATOR = "secretariat@minrel.example"
LEADS = {"CL": "vrojas@minrel.example", "US": "mturner@state.example"}
APPROVERS = ("cfuentes@minrel.example", "scollins@state.example", "dpark@doe.example")
PILLARS = tuple(Pillar)
# An action tried this many times in all before its lifecycle is given up as failed.
ATTEMPTS = 4
POLL_FIRST, POLL_LAST = 0.1, 2.0
# Waiting for a state the system reaches by itself (a round opening, minutes written, a round closing).
STATE_BOUND = 300.0
# What an operator reads as "it did not answer" rather than "it said no".
_TIMEOUT_WORDS = ("no answer in time", "no worker answered", "timed out", "timeout", "deadline")


@cache
def _example() -> dict[str, Any]:
    """The example declaration, parsed once: parsing it (pure-Python YAML, 2.5 ms) for each of 1,000 starts
    took this process 2.5 s of CPU, taken from the worker and server it measures on the same 2 cores."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "chile-us-2026.yaml").read_text(encoding="utf-8"))
    return data


def declaration(cid: str) -> Declaration:
    signed_at = (datetime.now(SANTIAGO) - timedelta(minutes=5)).replace(microsecond=0)
    return Declaration.model_validate({**_example(), "id": cid, "signed_at": signed_at})


def _items() -> dict[Pillar, dict[str, Any]]:
    found: dict[Pillar, dict[str, Any]] = {}
    for pillar in PILLARS:
        content = yaml.safe_load((EXAMPLES / "inputs" / f"cl-{pillar.value}.yaml").read_text(encoding="utf-8"))
        found[pillar] = {"summary": content["summary"], "items": content["items"]}
    return found


ITEMS = _items()


def open_request() -> OpenRoundRequest:
    now = datetime.now(UTC).replace(microsecond=0)
    return OpenRoundRequest(
        meeting_at=now + timedelta(days=10),
        inputs_due=now + timedelta(days=8),
        pillars=list(PILLARS),
        requested_by=OPERATOR,
    )


def input_request(party: str, pillar: Pillar) -> SubmitInputRequest:
    content = {"party": party, "pillar": pillar.value, "author": LEADS[party], **ITEMS[pillar]}
    return SubmitInputRequest(input=PILLAR_INPUT.validate_python(content), submitted_by=OPERATOR)


def on_behalf(approver: str) -> operations.DecisionOnBehalf:
    return operations.DecisionOnBehalf(approver=approver, decision=Decision.APPROVE, recorded_by=OPERATOR)


def draft_request() -> SubmitDraftRequest:
    folder = EXAMPLES / "agreement"
    documents = {
        Locale.EN: (folder / "draft-v1.en.md").read_text(encoding="utf-8"),
        Locale.ES: (folder / "draft-v1.es.md").read_text(encoding="utf-8"),
    }
    return SubmitDraftRequest(documents=documents, requested_by=OPERATOR)


def inputs() -> list[tuple[str, Pillar]]:
    return [(party, pillar) for party in LEADS for pillar in PILLARS]


def updates_per_lifecycle(rounds: int) -> int:
    return rounds * (1 + len(inputs()) + len(APPROVERS)) + 2 + len(APPROVERS)


def bare_payloads(rounds: int) -> list[dict[str, Any]]:
    """The same requests as JSON objects, in the same order, for the bare workflow's updates."""
    decision = DecisionRequest(approver=APPROVERS[0], decision=Decision.APPROVE, sha256="0" * 64, recorded_by=OPERATOR)
    one_round: list[BaseModel] = [
        open_request(),
        *(input_request(party, pillar) for party, pillar in inputs()),
        *(decision.model_copy(update={"approver": a}) for a in APPROVERS),
    ]
    agreement: list[BaseModel] = [
        StartDraftingRequest(requested_by=OPERATOR),
        draft_request(),
        *(decision.model_copy(update={"approver": a}) for a in APPROVERS),
    ]
    return [m.model_dump(mode="json") for m in [*one_round * rounds, *agreement]]


# --- keeping count ---------------------------------------------------------------------------------


class LifecycleFailed(Exception):
    pass


@dataclass
class Tally:
    timeouts: int = 0  # actions (updates, starts) with no answer in time
    read_timeouts: int = 0  # reads (status, round status) no worker answered in time
    errors: int = 0
    duplicates: int = 0
    failed: int = 0  # not finished: given up after failures, or out of time
    examples: list[str] = field(default_factory=list)

    def note(self, kind: str, what: str, *, read: bool = False) -> None:
        if kind == "timeout" and read:
            self.read_timeouts += 1
        elif kind == "timeout":
            self.timeouts += 1
        else:
            self.errors += 1
        example = f"{kind}: {what}"[:300]
        if kind != "timeout":  # rarer than timeouts, and they say more: first
            self.examples.insert(0, example)
        elif len(self.examples) < 8:
            self.examples.append(example)
        del self.examples[8:]

    def merge(self, other: Tally) -> None:
        self.timeouts += other.timeouts
        self.read_timeouts += other.read_timeouts
        self.errors += other.errors
        self.duplicates += other.duplicates
        self.failed += other.failed
        errors = [e for e in other.examples if not e.startswith("timeout")]
        self.examples = [*errors, *self.examples, *other.examples[len(errors) :]][:8]


def kind_of(error: BaseException) -> str:
    """`timeout` for what an operator reads as no answer, `error` for anything else."""
    if isinstance(error, TimeoutError | WorkflowUpdateRPCTimeoutOrCancelledError):
        return "timeout"
    if isinstance(error, RPCError) and error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        return "timeout"
    text = str(error).lower()
    return "timeout" if any(w in text for w in _TIMEOUT_WORDS) else "error"


def not_yet(error: BaseException) -> bool:
    """What a poll hears while the state it waits for is still coming ("round 2 is opening", "no minutes
    yet"): the operations' words for a state, not a failure; only a timeout among them is one."""
    return isinstance(error, operations.OperationError) and kind_of(error) != "timeout"


def duplicates(keys: Iterable[Any]) -> int:
    return sum(n - 1 for n in Counter(keys).values() if n > 1)


class OutOfTime(LifecycleFailed):
    """The figure's time is up: given up before finishing, not a failure the system showed."""


def _check(deadline: float | None, what: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime(f"{what}: out of time")


async def attempt(
    tally: Tally, what: str, action: Callable[[], Awaitable[T]], deadline: float | None = None
) -> T | None:
    """The action, tried again (same request) after a failure, each failure counted; a refusal after a
    timeout means the timed-out attempt was recorded after all.

    Time is bounded by `deadline`, checked between attempts, never by cancelling: the SDK turns a
    cancelled `execute_update` into `WorkflowUpdateRPCTimeoutOrCancelledError`, which would read here as
    one more timeout to retry."""
    timed_out = False
    for n in range(ATTEMPTS):
        _check(deadline, what)
        try:
            return await action()
        except Exception as error:
            _check(deadline, what)
            kind = kind_of(error)
            if timed_out and kind == "error" and "refused" in str(error):
                return None
            timed_out = timed_out or kind == "timeout"
            tally.note(kind, f"{what}: {error}")
            if n + 1 < ATTEMPTS:
                await asyncio.sleep(1.0)
    raise LifecycleFailed(f"{what} failed {ATTEMPTS} times")


# --- one consultation -----------------------------------------------------------------------------


class Lifecycle:
    """One consultation driven through the operations API; what went wrong is in `tally`."""

    def __init__(self, client: Client, task_queue: str, cid: str, deadline: float | None = None) -> None:
        self.client, self.task_queue, self.cid = client, task_queue, cid
        self.deadline = deadline  # time.monotonic() after which it gives up (OutOfTime)
        self.declaration = declaration(cid)
        self.tally = Tally()

    async def act(self, what: str, action: Callable[[], Awaitable[T]]) -> T | None:
        return await attempt(self.tally, f"{self.cid} {what}", action, self.deadline)

    async def until(self, what: str, check: Callable[[], Awaitable[bool]], bound: float = STATE_BOUND) -> None:
        """Polls `check` until it is true, as a patient operator would (0.1 s, then less often, up to every
        2 s); a poll that fails other than "not yet" is counted."""
        deadline = time.monotonic() + bound
        pause = POLL_FIRST
        while True:
            _check(self.deadline, f"{self.cid} waiting for {what}")
            try:
                if await check():
                    return
            except Exception as error:
                _check(self.deadline, f"{self.cid} waiting for {what}")
                if not not_yet(error):
                    self.tally.note(kind_of(error), f"{self.cid} waiting for {what}: {error}", read=True)
            if time.monotonic() > deadline:
                raise LifecycleFailed(f"{self.cid}: {what} not reached within {bound:.0f} s")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, POLL_LAST)

    # --- states ---------------------------------------------------------------------------------

    async def round_in(self, number: int, *states: RoundState, minutes: bool = False) -> bool:
        current = await operations.round_status(self.client, self.cid, number)
        return current.state in states and (bool(current.minutes) or not minutes)

    async def round_closed(self, number: int) -> bool:
        rounds = (await operations.status(self.client, self.cid)).rounds
        return len(rounds) >= number and rounds[number - 1].state is RoundState.CLOSED

    async def draft_awaits_approval(self) -> bool:
        current = await operations.status(self.client, self.cid)
        approval = current.agreement_approval
        return approval is not None and bool(current.drafts) and approval.version == current.drafts[-1].version

    async def stage_is(self, stage: Stage) -> bool:
        return (await operations.status(self.client, self.cid)).stage is stage

    # --- steps ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.act("start", lambda: operations.start(self.client, self.declaration, self.task_queue))

    async def open_and_collect(self, number: int) -> None:
        """Round `number` opened (after the previous one closed), every input submitted, minutes written."""
        c, cid = self.client, self.cid
        if number > 1:
            await self.until(f"round {number - 1} closed", lambda: self.round_closed(number - 1))
        request = open_request()
        await self.act(f"open round {number}", lambda: operations.open_round(c, cid, request))
        await self.until(f"round {number} collecting", lambda: self.round_in(number, RoundState.COLLECTING))
        for party, pillar in inputs():
            submit = input_request(party, pillar)
            await self.act(f"{party}/{pillar.value} input", partial(operations.submit_input, c, cid, submit))
        await self.until(
            f"round {number} minutes", lambda: self.round_in(number, RoundState.MINUTES_APPROVAL, minutes=True)
        )

    async def approve_minutes(self, number: int) -> None:
        c, cid = self.client, self.cid
        for approver in APPROVERS:
            decide = partial(operations.decide_current_minutes, c, cid, on_behalf(approver))
            await self.act(f"{approver} on minutes", decide)
        await self.until(f"round {number} closed", lambda: self.round_closed(number))

    async def agreement(self) -> None:
        c, cid = self.client, self.cid
        drafting = StartDraftingRequest(requested_by=OPERATOR)
        await self.act("start drafting", lambda: operations.start_drafting(c, cid, drafting))
        draft = draft_request()
        await self.act("submit draft", lambda: operations.submit_draft(c, cid, draft))
        # The approval opens when the workflow's main loop reaches it, a moment after the draft is recorded
        # (a decision sent in between is refused: "no agreement draft awaits approval").
        await self.until("draft awaiting approval", self.draft_awaits_approval)
        for approver in APPROVERS:
            decide = partial(operations.decide_current_draft, c, cid, on_behalf(approver))
            await self.act(f"{approver} on draft", decide)
        await self.until("concluded", lambda: self.stage_is(Stage.CONCLUDED))

    async def whole(self, rounds: int) -> None:
        await self.start()
        for number in range(1, rounds + 1):
            await self.open_and_collect(number)
            await self.approve_minutes(number)
        await self.agreement()

    async def count_duplicates(self, rounds: int) -> int:
        """Inputs recorded more than once per party and pillar, decisions more than once per approver and version."""
        found = 0
        for number in range(1, rounds + 1):
            r = await self.act(
                f"round {number} status", partial(operations.round_status, self.client, self.cid, number)
            )
            assert r is not None
            found += duplicates((s.input.party, s.input.pillar) for s in r.submissions)
            found += duplicates((d.approver, d.version) for d in r.decisions)
        s = await self.act("status", partial(operations.status, self.client, self.cid))
        assert s is not None
        found += duplicates((d.approver, d.version) for d in s.agreement_decisions)
        self.tally.duplicates += found
        return found

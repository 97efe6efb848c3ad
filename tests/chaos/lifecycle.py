"""Whole consultations driven the way people drive them, on a `Stack`, keeping the books as they go.

Operators act with the `consult` CLI (start, round open, agreement start, draft submit, and on a party's
behalf `input submit` / `round decide` when mail is out); counterparts act through the links in the mail
the SMTP sink received (pillar inputs, decisions on minutes and drafts). Every action the system
acknowledged is written in a `Ledger`, and `account` checks it against what Temporal recorded and what
the sink received: lost (a notice recipient never mailed, an acknowledged input or decision not
recorded) and duplicated (one Message-ID received twice, an input or decision recorded twice).

A step that waits on the system raises `Stalled` if the expected state does not come within its bound
after the last fault ended (or within its own bound, for what a fault must not hold up).

One module, long on purpose: every step a person takes and the books it keeps belong together.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from bench.sink import Received
from operations import consultations as operations
from tests.chaos.stack import OPERATOR, Fault, Stack

T = TypeVar("T")

# How long the system has, after the last fault ended, to reach the state a step expects; and how
# long any step may wait at all, faults or not (faults that keep coming must not hide a stall).
RECOVERY_BOUND = 120.0
STEP_CAP = 300.0
SANTIAGO = timezone(timedelta(hours=-3))
PILLAR = "financing"
CL_LEAD, CL_APPROVER, US_PERSON = "vrojas@minrel.example", "cfuentes@minrel.example", "mturner@state.example"
LEADS = {"CL": CL_LEAD, "US": US_PERSON}
# A round's notices are numbered `<consultation>.r<n>.<seq>.<kind>`, the consultation's `<consultation>.<seq>.<kind>`.
ROUND_NOTICE = re.compile(r"^\.r\d+\.")
APPROVERS = {"CL": CL_APPROVER, "US": US_PERSON}


class Stalled(Exception):
    pass


class SuiteError(Exception):
    """The suite itself did something wrong (gave bad input where it meant good): not the system's fault."""


def form_data(summary: str, pillar: str = PILLAR, rows: int = 1) -> dict[str, str]:
    """A pillar's input form as a browser posts it, with `rows` items."""
    data = {"rows": str(rows), "summary": summary, "action": "submit"}
    for i in range(rows):
        if pillar == "strategic_projects":
            data |= {
                f"items-{i}-name": f"Project {i}",
                f"items-{i}-minerals": "lithium, copper",
                f"items-{i}-location": "Antofagasta",
                f"items-{i}-estimated_investment_usd": "1000000",
                f"items-{i}-supply_gap": "Refining",
            }
        else:
            data |= {
                f"items-{i}-instrument": "Blended facility",
                f"items-{i}-amount_usd": "500000000",
                f"items-{i}-public_share_pct": "60",
            }
    return data


def file_item(pillar: str) -> dict[str, Any]:
    """One item of a pillar-input file (as `consult input submit` reads it)."""
    if pillar == "strategic_projects":
        return {
            "name": "Salar project",
            "minerals": ["lithium"],
            "location": "Atacama",
            "estimated_investment_usd": 1000000,
            "supply_gap": "Refining",
        }
    return {"instrument": "Loan guarantee", "amount_usd": 400000000, "public_share_pct": 50}


# A message SMTP accepted this close before a worker's SIGKILL was still on its way to Temporal as a
# finished activity: its re-send is the at-least-once window, counted apart from duplicates. So is one
# the sink stamps accepted this soon *after* the kill on one of the killed worker's own connections:
# its bytes left before the worker died, and the sink read them a moment later.
IN_FLIGHT_SECONDS = 0.1
RESENT_IN_FLIGHT = "re-sent in flight"


def second_copy(first: Received, copies: int, kills: list[Fault]) -> tuple[str, str]:
    """What a message received `copies` times is (re-sent in flight, or duplicated), and when its first copy
    was accepted against the nearest kill: before it, up to 2 s (said), or after it by a moment, if it came
    on one of the killed worker's own connections."""
    near = [
        k.wall - first.at
        for k in kills
        if 0 <= k.wall - first.at <= 2 or (-IN_FLIGHT_SECONDS <= k.wall - first.at < 0 and first.peer in k.smtp_ports)
    ]
    gap = min(near, key=abs) if near else None
    window = ""
    if gap is not None:
        when = "before" if gap >= 0 else "after"
        window = f" (first copy accepted {abs(gap) * 1000:.0f} ms {when} a worker SIGKILL)"
    # SMTP has no two-phase commit: a message the server accepted in the instant before the worker died,
    # before Temporal heard the activity finish, is sent again (at-least-once, as the README says). Only
    # such a re-send is told apart; any other copy is a duplicate.
    in_flight = copies == 2 and gap is not None and abs(gap) <= IN_FLIGHT_SECONDS
    return (RESENT_IN_FLIGHT if in_flight else "duplicated"), window


@dataclass
class Problem:
    kind: str  # lost | duplicated | stalled | wrong
    what: str


@dataclass
class Ledger:
    """What the system acknowledged, to be found recorded exactly once at the end."""

    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (party, pillar, summary)
    minutes_decisions: list[str] = field(default_factory=list)  # approvers
    draft_decisions: list[str] = field(default_factory=list)


def declaration(cid: str, **overrides: Any) -> dict[str, Any]:
    """Two parties: Chile (one approver is enough) and the US (every approver); one lead and approver each."""
    data: dict[str, Any] = {
        "id": cid,
        "title": "Joint Declaration on Critical Minerals and Rare Earths",
        "signed_at": (datetime.now(SANTIAGO) - timedelta(minutes=5)).replace(microsecond=0).isoformat(),
        "operators": [{"email": OPERATOR, "name": "Secretaría MINREL", "locale": "es"}, "secretariat@state.example"],
        "parties": [
            {
                "code": "CL",
                "name": "República de Chile",
                "approval": "any",
                "counterparts": [
                    {"name": "Valentina Rojas", "email": CL_LEAD, "roles": ["technical_lead"], "locale": "es"},
                    {"name": "Carolina Fuentes", "email": CL_APPROVER, "roles": ["approver"], "locale": "es"},
                ],
            },
            {
                "code": "US",
                "name": "United States of America",
                "approval": "all",
                "counterparts": [
                    {
                        "name": "Michael Turner",
                        "email": US_PERSON,
                        "roles": ["technical_lead", "approver"],
                        "locale": "en",
                    }
                ],
            },
        ],
    }
    data.update(overrides)
    return data


def new_id(label: str) -> str:
    return f"chaos-{label}-{secrets.token_hex(3)}"


def when(moment: datetime) -> str:
    """A date-time as the CLI reads it."""
    return moment.astimezone(SANTIAGO).strftime("%Y-%m-%dT%H:%M%z")[:-2] + ":00"


class Lifecycle:
    """One consultation on the stack, with its ledger and the problems found in it."""

    def __init__(self, stack: Stack, data: dict[str, Any], agenda: tuple[str, ...] = (PILLAR,)) -> None:
        self.stack = stack
        self.data = data
        self.cid: str = data["id"]
        self.agenda = agenda
        self.ledger = Ledger()
        self.problems: list[Problem] = []
        self.timeline: list[tuple[str, float]] = []  # (step, seconds it waited)
        self.folder: Path = stack.root / "files" / self.cid
        self.folder.mkdir(parents=True, exist_ok=True)
        self.http = httpx.AsyncClient(timeout=30, follow_redirects=False)

    def problem(self, kind: str, what: str) -> None:
        self.problems.append(Problem(kind, f"{self.cid}: {what}"))

    # --- waiting on the system -------------------------------------------------------------

    async def until(
        self, check: Callable[[], Awaitable[T | None]], what: str, bound: float | None = None, interval: float = 0.5
    ) -> T:
        """Polls `check` until it returns a value. Stalled after `bound` seconds from the start when given
        (what a fault must not hold up), otherwise `RECOVERY_BOUND` after the last fault ended."""
        started = time.monotonic()
        while True:
            try:
                value = await check()
            except (httpx.HTTPError, operations.OperationError, RuntimeError, OSError, AssertionError):
                value = None
            except Exception as error:  # an RPC error while a server restarts, a query mid-replay...
                if type(error).__module__.startswith("temporalio"):
                    value = None
                else:
                    raise
            if value is not None and value is not False:
                self.stack.waited(started)
                self.timeline.append((what, time.monotonic() - started))
                return value
            now = time.monotonic()
            if bound is not None:
                late = now - started > bound
            else:
                late = now - started > STEP_CAP or (
                    not self.stack.faulty and now - max(started, self.stack.quiet_since) > RECOVERY_BOUND
                )
            if late:
                raise Stalled(f"{self.cid}: {what}")
            await asyncio.sleep(interval)

    async def status(self) -> dict[str, Any]:
        assert self.stack.client is not None
        result = await operations.status(self.stack.client, self.cid)
        return result.model_dump(mode="json")

    async def round(self, number: int = 1) -> dict[str, Any]:
        assert self.stack.client is not None
        result = await operations.round_status(self.stack.client, self.cid, number)
        return result.model_dump(mode="json")

    async def recorded(self) -> dict[str, Any]:
        """What is recorded, without the notices (their deliveries go on in the background)."""
        status = await self.status()
        status.pop("notices", None)
        rounds = []
        for r in status.get("rounds", []):
            detail = await self.round(r["number"])
            detail.pop("notices", None)
            rounds.append(detail)
        return {"consultation": status, "rounds": rounds}

    # --- operators, with the CLI -----------------------------------------------------------

    async def operator(
        self, what: str, done: Callable[[], Awaitable[bool]], *args: str, bound: float | None = None
    ) -> None:
        """Runs `consult *args` until `done()` says it took effect. A refusal while the system recovers
        (exit 1) is tried again; an exit other than 0/1/2 or a traceback is a wrong answer."""

        last: list[str] = []

        async def attempt() -> bool:
            if await self.quietly(done):
                return True
            result = await self.stack.consult(*args)
            last[:] = [str(result)]
            if not result.clear:
                self.problem("wrong", f"`consult {' '.join(args[:2])} …`: {result}")
            elif result.code == 2:
                raise SuiteError(f"the suite gave `consult {' '.join(args[:2])}` bad input: {result}")
            return result.code == 0 or await self.quietly(done)

        try:
            await self.until(attempt, what, bound, interval=1.0)
        except Stalled as stalled:
            raise Stalled(
                f"{stalled} (last `consult {' '.join(args[:2])}`: {last[0] if last else 'not run'})"
            ) from None

    async def quietly(self, check: Callable[[], Awaitable[bool]]) -> bool:
        """`check()`, False when it cannot tell yet (not found, a server restarting, no worker)."""
        try:
            return await check()
        except Exception:
            return False

    def write(self, name: str, content: str) -> Path:
        path = self.folder / name
        path.write_text(content, encoding="utf-8")
        return path

    async def start(self, bound: float | None = None) -> None:
        path = self.write("declaration.yaml", yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False))

        async def exists() -> bool:
            return bool(await self.status())

        await self.operator("started", exists, "start", str(path), bound=bound)

    async def open_round(self, bound: float | None = None) -> None:
        now = datetime.now(UTC)

        async def opened() -> bool:
            return len((await self.status())["rounds"]) >= 1

        await self.operator(
            "round 1 opened",
            opened,
            *("round", "open", self.cid, "--meeting", when(now + timedelta(days=2))),
            *("--inputs-due", when(now + timedelta(days=1)), "--pillars", ",".join(self.agenda)),
            bound=bound,
        )

    async def start_agreement(self) -> None:
        async def drafting() -> bool:
            return (await self.status())["stage"] in ("drafting_agreement", "awaiting_approval", "concluded")

        await self.operator("drafting", drafting, "agreement", "start", self.cid)

    async def submit_draft(self) -> None:
        root = Path(__file__).resolve().parents[2] / "examples" / "agreement"

        async def submitted() -> bool:
            return len((await self.status())["drafts"]) >= 1

        await self.operator(
            "draft submitted",
            submitted,
            *("draft", "submit", self.cid, "--en", str(root / "draft-v1.en.md"), "--es", str(root / "draft-v1.es.md")),
        )

    async def input_by_operator(self, party: str, pillar: str = PILLAR, bound: float | None = None) -> None:
        summary = f"{party} {pillar} by the secretariat {secrets.token_hex(3)}"
        content = {"author": LEADS[party], "summary": summary, "items": [file_item(pillar)]}
        path = self.write(f"{party}-{pillar}.yaml", yaml.safe_dump(content))

        async def recorded() -> bool:
            found = any(s["input"]["summary"] == summary for s in (await self.round())["submissions"])
            if found and (party, pillar, summary) not in self.ledger.inputs:
                self.ledger.inputs.append((party, pillar, summary))
            return found

        await self.operator(
            f"{party}/{pillar} input recorded",
            recorded,
            *("input", "submit", self.cid, str(path), "--party", party, "--pillar", pillar),
            bound=bound,
        )

    async def decide_by_operator(self, approver: str, bound: float | None = None) -> None:
        async def recorded() -> bool:
            found = any(d["approver"] == approver for d in (await self.round())["decisions"])
            if found and approver not in self.ledger.minutes_decisions:
                self.ledger.minutes_decisions.append(approver)
            return found

        await self.operator(
            f"{approver}'s decision on the minutes recorded",
            recorded,
            *("round", "decide", self.cid, "--approver", approver, "--decision", "approve"),
            bound=bound,
        )

    # --- counterparts, through the links in their mail ----------------------------------------

    async def link(self, kind: str, recipient: str, scope: str = "round", bound: float | None = None) -> str:
        """The link in `recipient`'s mail of `kind` (a round's, or the agreement's), once it has arrived."""

        async def arrived() -> str | None:
            mail = [
                m
                for m in self.stack.mail.of(self.cid, kind, recipient)
                if bool(ROUND_NOTICE.match(m.notice_id.removeprefix(self.cid))) == (scope == "round")
            ]
            return (mail[-1].link or None) if mail else None

        return await self.until(arrived, f"{kind} mail to {recipient}", bound)

    async def input_by_link(self, party: str, pillar: str = PILLAR) -> None:
        """The lead's form, posted until acknowledged (303). A 503 may still be recorded later (the update
        was in flight): if the round then answers 409 (inputs closed), one of our attempts must be there."""
        link = await self.link("input_request", LEADS[party])
        attempts: list[str] = []

        async def attempt() -> bool:
            summary = f"{party} {pillar} through the link {secrets.token_hex(3)}"
            attempts.append(summary)
            answer = await self.http.post(f"{link}/input/{pillar}", data=form_data(summary, pillar))
            if answer.status_code == 303:
                self.ledger.inputs.append((party, pillar, summary))
                return True
            if answer.status_code == 409:
                recorded = {s["input"]["summary"] for s in (await self.round())["submissions"]}
                if not recorded & set(attempts):
                    self.problem("wrong", f"{party}/{pillar}: inputs closed (409) with none of its attempts recorded")
                return True
            if answer.status_code != 503:
                self.problem("wrong", f"{party}/{pillar} input through the link answered {answer.status_code}")
                return answer.status_code < 500  # a 4xx will not change by asking again
            return False

        await self.until(attempt, f"{party}/{pillar} input through the link", interval=1.0)

    async def decide_by_link(self, approver: str, scope: str) -> None:
        """Approve through the link until acknowledged: a 200, or a 409 saying it is already recorded
        (an earlier attempt answered 503 while its update was in flight)."""
        link = await self.link("approval_request", approver, scope)
        books = self.ledger.minutes_decisions if scope == "round" else self.ledger.draft_decisions
        refusals: list[int] = []

        async def attempt() -> bool:
            answer = await self.http.post(f"{link}/decision", data={"decision": "approve"})
            if answer.status_code == 200:
                books.append(approver)
                return True
            if answer.status_code == 409:
                if any(d["approver"] == approver for d in await self._decisions(scope)):
                    books.append(approver)
                    return True
                refusals.append(409)
                if len(refusals) >= 3:
                    self.problem("wrong", f"{approver} ({scope}): 409 three times, no decision of theirs recorded")
                    return True
                return False
            if answer.status_code != 503:
                self.problem("wrong", f"{approver}'s decision ({scope}) through the link answered {answer.status_code}")
                return answer.status_code < 500
            return False

        await self.until(attempt, f"{approver}'s decision through the link ({scope})", interval=1.0)

    async def _decisions(self, scope: str) -> list[dict[str, Any]]:
        if scope == "round":
            decisions: list[dict[str, Any]] = (await self.round())["decisions"]
        else:
            decisions = (await self.status())["agreement_decisions"]
        return decisions

    # --- states --------------------------------------------------------------------------

    async def round_state(self, *states: str, bound: float | None = None) -> None:
        async def reached() -> bool:
            return (await self.round())["state"] in states

        await self.until(reached, f"round 1 {' or '.join(states)}", bound)

    async def stage(self, *stages: str, bound: float | None = None) -> None:
        async def reached() -> bool:
            return (await self.status())["stage"] in stages

        await self.until(reached, f"stage {' or '.join(stages)}", bound)

    # --- a whole lifecycle ----------------------------------------------------------------

    async def collect_by_links(self) -> None:
        for party in LEADS:
            for pillar in self.agenda:
                await self.input_by_link(party, pillar)

    async def approve_minutes_by_links(self) -> None:
        await self.round_state("minutes_approval", "closed")
        for approver in dict.fromkeys(APPROVERS.values()):
            await self.decide_by_link(approver, "round")
        await self.round_state("closed")

    async def conclude(self) -> None:
        """From a closed round to the concluded agreement, every approver deciding through their link."""
        await self.start_agreement()
        await self.submit_draft()
        for approver in dict.fromkeys(APPROVERS.values()):
            await self.decide_by_link(approver, "agreement")
        await self.stage("concluded")

    async def whole(self) -> None:
        await self.start()
        await self.open_round()
        await self.collect_by_links()
        await self.approve_minutes_by_links()
        await self.conclude()

    # --- the books --------------------------------------------------------------------------

    async def expected_mail(self) -> set[tuple[str, str]]:
        """(notice id, recipient) for every notice the consultation and its rounds recorded."""
        status = await self.status()
        notices = list(status["notices"])
        for r in status["rounds"]:
            notices += (await self.round(r["number"]))["notices"]
        return {(n["notice_id"], to) for n in notices for to in n["recipients"]}

    async def delivered(self, what: str = "every notice so far delivered") -> None:
        """Until every notice recorded so far has reached each of its recipients."""
        expected = await self.until(self.expected_mail, "its notices, read from its status")

        async def arrived() -> bool:
            return expected <= {(m.notice_id, m.recipient) for m in self.stack.mail.of(self.cid)}

        await self.until(arrived, what)

    async def account(self, settle: float = RECOVERY_BOUND) -> None:
        """Lost and duplicated, once every notice had `settle` seconds (after the last fault) to arrive."""
        try:
            expected = await self.until(self.expected_mail, "its status, to count its mail", bound=settle)
        except Stalled as stalled:
            self.problem("stalled", str(stalled))
            return

        def missing() -> set[tuple[str, str]]:
            got = {(m.notice_id, m.recipient) for m in self.stack.mail.of(self.cid)}
            return expected - got

        async def all_arrived() -> bool:
            return not missing()

        with contextlib.suppress(Stalled):  # what has not arrived by then is lost, and counted below
            await self.until(all_arrived, "every notice delivered", bound=settle)
        for notice_id, to in sorted(missing()):
            self.problem("lost", f"{to} never received notice {notice_id}")
        mail = self.stack.mail.of(self.cid)
        counts = Counter(m.message_id for m in mail)
        kills = [f for f in self.stack.faults if "SIGKILL" in f.kind]
        for mid, n in sorted(counts.items()):
            if n > 1:
                first = min((m for m in mail if m.message_id == mid), key=lambda m: m.at)
                kind, window = second_copy(first, n, kills)
                self.problem(kind, f"{mid} received {n} times{window}")
        await self._account_actions()

    async def _account_actions(self) -> None:
        status = await self.status()
        rounds = [await self.round(r["number"]) for r in status["rounds"]]
        submissions = [s["input"] for r in rounds for s in r["submissions"]]
        for party, pillar, summary in self.ledger.inputs:
            n = sum(1 for s in submissions if (s["party"], s["pillar"], s["summary"]) == (party, pillar, summary))
            if n == 0:
                self.problem("lost", f"input {party}/{pillar} {summary!r} acknowledged, not recorded")
            elif n > 1:
                self.problem("duplicated", f"input {party}/{pillar} {summary!r} recorded {n} times")
        for books, decisions, what in (
            (self.ledger.minutes_decisions, [d for r in rounds for d in r["decisions"]], "minutes"),
            (self.ledger.draft_decisions, status["agreement_decisions"], "draft"),
        ):
            per = Counter((d["approver"], d["version"]) for d in decisions)
            for approver in set(books):
                if not any(a == approver for a, _ in per):
                    self.problem("lost", f"{approver}'s decision on the {what} acknowledged, not recorded")
            for (approver, version), n in per.items():
                if n > 1:
                    self.problem("duplicated", f"{approver}'s decision on {what} v{version} recorded {n} times")

    async def close(self) -> None:
        await self.http.aclose()


def dump(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)

"""The faults, each as a scenario that drives lifecycles through it and returns one row of the table.

- `worker_kills`: SIGKILL a worker at random moments while lifecycles run (the other carries on; the
  killed one is started again and must rejoin the task queue);
- `kill_mid_send`: SIGKILL the worker sending a notice to 1,000+ recipients, in the middle of it;
- `smtp_outage`: SMTP stopped in the middle of a round; what needs no mail must go on meanwhile, and
  every notice arrives after, exactly once per recipient;
- `temporal_restart`: the dev server stopped and started again on its file mid-round; 503 pages and
  clear CLI messages meanwhile, then recovery;
- `bad_cli_input`, `bad_gateway_requests`: hostile files and posts get a clear answer (exit 2, a 4xx
  page) and change nothing already recorded.

One module, long on purpose: each scenario reads top to bottom as the story of its fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import yaml
from temporalio.client import WorkflowExecutionStatus

from bench.procs import Proc
from consult.files import InputFileError, load_declaration
from infra.links import ALGORITHM, AUDIENCE
from tests.chaos.lifecycle import (
    APPROVERS,
    CL_LEAD,
    LEADS,
    PILLAR,
    RESENT_IN_FLIGHT,
    Lifecycle,
    Problem,
    Stalled,
    declaration,
    dump,
    form_data,
    new_id,
)
from tests.chaos.stack import Stack


@dataclass
class Row:
    fault: str
    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    recovery: float = 0.0
    notes: list[str] = field(default_factory=list)

    def tally(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    @property
    def ok(self) -> bool:
        return all(p.kind == RESENT_IN_FLIGHT for p in self.problems)

    def take(self, lifecycle: Lifecycle) -> None:
        self.problems += lifecycle.problems
        lifecycle.problems = []
        slowest = sorted(lifecycle.timeline, key=lambda step: -step[1])[:3]
        self.notes.append(f"{lifecycle.cid}, longest waits: " + "; ".join(f"{w} {s:.1f} s" for w, s in slowest))

    def recovered(self, stack: Stack, kind: str) -> None:
        self.recovery = max([self.recovery, *(f.recovery for f in stack.faults if f.kind == kind)])


COLUMNS = ("fault", "count", "lost", "duplicated", "stalled", "wrong answers", "re-sent in flight", "max recovery")


def table(rows: list[Row]) -> str:
    cells = [
        (
            r.fault,
            str(r.count),
            str(r.tally("lost")),
            str(r.tally("duplicated")),
            str(r.tally("stalled")),
            str(r.tally("wrong")),
            str(r.tally(RESENT_IN_FLIGHT)),
            f"{r.recovery:.1f} s",
        )
        for r in rows
    ]
    widths = [max(len(c) for c in column) for column in zip(COLUMNS, *cells, strict=False)]
    lines = [
        " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        for line in [COLUMNS, *cells]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def problems(rows: list[Row], limit: int = 15) -> str:
    out: list[str] = []
    for r in rows:
        for p in r.problems[:limit]:
            out.append(f"  [{r.fault}] {p.kind}: {p.what}")
        if len(r.problems) > limit:
            out.append(f"  [{r.fault}] … and {len(r.problems) - limit} more")
    return "\n".join(out)


async def guarded(lifecycle: Lifecycle, steps: Callable[[], Awaitable[None]]) -> bool:
    """Runs `steps`; a stall is written down (not raised), and the lifecycle stops there."""
    try:
        await steps()
        return True
    except Stalled as stalled:
        lifecycle.problem("stalled", str(stalled).removeprefix(f"{lifecycle.cid}: "))
        return False


# --- worker SIGKILLs -----------------------------------------------------------------------


async def restart(stack: Stack, worker: Proc, fault: Any, row: Row) -> None:
    worker.start()
    fault.ended = time.monotonic()
    try:
        await stack.polling(worker, 60)
    except (TimeoutError, RuntimeError) as error:
        row.problems.append(Problem("wrong", f"{worker.name} did not rejoin after its restart: {error}"))


async def worker_kills(
    stack: Stack, kills: int = 20, per_wave: int = 2, pause: tuple[float, float] = (2.0, 7.0)
) -> Row:
    """Lifecycles in waves of `per_wave`, a worker SIGKILLed every few seconds until `kills` were."""
    row = Row("worker SIGKILL at random points")
    done, running = asyncio.Event(), asyncio.Event()

    async def killer() -> None:
        while not done.is_set():
            await running.wait()  # kills land while lifecycles run, not while the books are kept
            try:
                await asyncio.wait_for(done.wait(), random.uniform(*pause))
                return
            except TimeoutError:
                pass
            if not running.is_set():
                continue
            worker = random.choice(stack.workers)
            fault = stack.kill_worker(worker, "worker SIGKILL")
            row.count += 1
            await asyncio.sleep(random.uniform(0.2, 3.0))
            await restart(stack, worker, fault, row)

    task = asyncio.create_task(killer())
    try:
        while row.count < kills:
            wave = [Lifecycle(stack, declaration(new_id("kill"))) for _ in range(per_wave)]
            running.set()
            await asyncio.gather(*(guarded(lc, lc.whole) for lc in wave))
            running.clear()
            if row.count >= kills:
                done.set()
                await task
            for lc in wave:
                await lc.account()
                row.take(lc)
                await lc.close()
    finally:
        done.set()
        running.set()
        await task
    row.recovered(stack, "worker SIGKILL")
    return row


async def one_worker_killed(stack: Stack) -> Row:
    """The fast case: a worker SIGKILLed mid-lifecycle, once the round is open and its mail sent (so
    what it held is its cache of the workflows, not a long activity); the other worker finishes the
    lifecycle alone; the killed one is started again and rejoins."""
    row = Row("worker SIGKILL mid-lifecycle", count=1)
    lc = Lifecycle(stack, declaration(new_id("kill1")))
    victim = stack.workers[0]

    async def steps() -> None:
        await lc.start()
        await lc.open_round()
        await lc.delivered()
        fault = stack.kill_worker(victim, "worker SIGKILL")
        fault.ended = time.monotonic()  # not restarted until the end: the other worker carries on alone
        await lc.collect_by_links()
        await lc.approve_minutes_by_links()
        await lc.conclude()

    await guarded(lc, steps)
    await restart(stack, victim, stack.fault("worker restart"), row)
    await lc.account()
    row.take(lc)
    row.recovered(stack, "worker SIGKILL")
    await lc.close()
    return row


def big_declaration(cid: str, recipients: int, folder: Path) -> dict[str, Any]:
    """A declaration whose notices go to at least `recipients` people, in the first shape the
    declaration's limits allow (many counterparts in a few parties, or fewer in more)."""
    for parties in (2, 4, 8, 10, 16, 20, 25, 40, 50):
        per_party = -(-(recipients - 2) // parties)
        codes = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase][:parties]
        data = declaration(
            cid,
            parties=[
                {
                    "code": code,
                    "name": f"Party {code}",
                    "approval": "any",
                    "counterparts": [
                        {
                            "name": f"Counterpart {n:04d} of {code}",
                            "email": f"c{n:04d}@{code.lower()}.example",
                            "roles": ["technical_lead", "approver"] if n == 0 else ["approver"],
                            "locale": ("en", "es", "fr")[n % 3],
                        }
                        for n in range(per_party)
                    ],
                }
                for code in codes
            ],
        )
        try:
            path = folder / f"{cid}.yaml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            load_declaration(path)
            return data
        except InputFileError:
            continue
    raise RuntimeError(f"no declaration shape the limits allow reaches {recipients} recipients")


async def senders(stack: Stack) -> dict[int, int]:
    """pid -> activities in flight, over every running workflow of the stack (whoever sends the mail)."""
    assert stack.client is not None
    count: dict[int, int] = {}
    query = f"TaskQueue = '{stack.task_queue}' AND ExecutionStatus = 'Running'"
    with contextlib.suppress(Exception):  # no answer: any worker will do
        async for execution in stack.client.list_workflows(query):
            described = await stack.client.get_workflow_handle(execution.id).describe()
            for pending in described.raw_description.pending_activities:
                pid = pending.last_worker_identity.partition("@")[0]
                if pid.isdigit():
                    count[int(pid)] = count.get(int(pid), 0) + 1
    return count


async def kill_mid_send(stack: Stack, recipients: int = 1000) -> Row:
    row = Row(f"worker SIGKILL mid-send ({recipients}+ recipients)")
    cid = new_id("big")
    lc = Lifecycle(stack, big_declaration(cid, recipients, stack.root))
    total = sum(len(p["counterparts"]) for p in lc.data["parties"]) + len(lc.data["operators"])
    row.fault = f"worker SIGKILL mid-send ({total} recipients)"

    async def kill_midway() -> None:
        await lc.start()

        # Three eighths: inside a delivery run's batch (250 recipients each), not on the boundary between two,
        # where a quarter of 1,000 fell, so the worker dies with messages of a batch still to send.
        async def partly_sent() -> bool:
            return len(stack.mail.of(lc.cid, "opened")) >= total * 3 // 8

        await lc.until(partly_sent, "three eighths of the opening notice sent", interval=0.1)
        busy: dict[int, int] = {}
        for _ in range(30):  # sends last milliseconds: sample until one is caught in flight
            if busy := await senders(stack):
                break
            await asyncio.sleep(0.05)
        worker = max(stack.workers, key=lambda w: busy.get(w.pid, 0))
        fault = stack.kill_worker(worker, "worker SIGKILL mid-send")
        row.count += 1
        sent = len(stack.mail.of(lc.cid, "opened"))
        if sent >= total:
            lc.problem("wrong", "the notice was fully sent before the kill: no mid-send point was hit")
        row.notes.append(
            f"killed {worker.name} (pid {worker.pid}, {busy.get(worker.pid, 0)} sends in flight) at {sent}/{total}"
        )
        await asyncio.sleep(1)
        await restart(stack, worker, fault, row)

        async def all_sent() -> bool:
            return len({m.recipient for m in stack.mail.of(lc.cid, "opened")}) >= total

        await lc.until(all_sent, "the opening notice sent to everyone")
        assert fault.ended is not None
        fault.recovery = time.monotonic() - fault.ended

    await guarded(lc, kill_midway)
    await lc.account()
    row.take(lc)
    row.recovered(stack, "worker SIGKILL mid-send")
    await lc.close()
    return row


# --- SMTP out ------------------------------------------------------------------------------


async def smtp_outage(stack: Stack, seconds: float = 60, step_bound: float = 20, conclude: bool = True) -> Row:
    """Mail stops right after the consultation opened; meanwhile operators open round 1, submit both
    parties' inputs and record the approvers' decisions (none of it needs mail, so each step must
    complete within `step_bound`); mail comes back; every notice arrives once; the lifecycle ends."""
    row = Row(f"SMTP outage {seconds:.0f} s mid-round", count=1)
    lc = Lifecycle(stack, declaration(new_id("smtp")))

    async def opened() -> None:
        await lc.start()
        await lc.delivered()

    if not await guarded(lc, opened):
        row.take(lc)
        return row

    fault = stack.fault("SMTP outage")
    stack.sink.stop()
    out_since = time.monotonic()

    async def without_mail() -> None:
        await lc.open_round(bound=step_bound)
        await lc.round_state("collecting", bound=step_bound)
        for party in LEADS:
            await lc.input_by_operator(party, bound=step_bound)
        await lc.round_state("minutes_approval", bound=step_bound)
        for approver in dict.fromkeys(APPROVERS.values()):
            await lc.decide_by_operator(approver, bound=step_bound)
        await lc.round_state("closed", bound=step_bound)

    await guarded(lc, without_mail)
    held = [p for p in lc.problems if p.kind == "stalled"]
    for p in held:
        p.what += " (while SMTP was down: the lifecycle waited for mail)"
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - out_since)))
    stack.sink.start()
    await stack.smtp_up()
    fault.ended = back = time.monotonic()

    async def finish() -> None:
        if held:  # pick up where it stopped, now that mail flows again
            await lc.open_round()
            await lc.round_state("collecting", "minutes_approval", "closed")
            round_now = await lc.round()
            for party in LEADS:
                if not round_now["grid"].get(party, {}).get(PILLAR):
                    await lc.input_by_operator(party)
            await lc.round_state("minutes_approval", "closed")
            for approver in dict.fromkeys(APPROVERS.values()):
                if not any(d["approver"] == approver for d in (await lc.round())["decisions"]):
                    await lc.decide_by_operator(approver)
            await lc.round_state("closed")
        await lc.delivered("every notice issued during the outage delivered")
        fault.recovery = time.monotonic() - back
        if conclude:
            await lc.conclude()

    await guarded(lc, finish)
    await lc.account()
    row.take(lc)
    row.recovery = fault.recovery
    await lc.close()
    return row


# --- the Temporal server restarted ------------------------------------------------------------


def clear_page(response: httpx.Response, status: int | tuple[int, int]) -> str:
    """'' if `response` is a page with the status expected and the security headers; else what is wrong."""
    low, high = (status, status) if isinstance(status, int) else status
    problems = []
    if not low <= response.status_code <= high:
        problems.append(f"status {response.status_code}")
    if "text/html" not in response.headers.get("content-type", ""):
        problems.append(f"content-type {response.headers.get('content-type')!r}")
    for header in ("content-security-policy", "referrer-policy"):
        if header not in response.headers:
            problems.append(f"no {header}")
    if "Traceback" in response.text or response.text.strip() == "Internal Server Error":
        problems.append("a bare error")
    return ", ".join(problems)


async def temporal_restart(stack: Stack, down: float = 10, conclude: bool = True) -> Row:
    row = Row(f"Temporal dev server restart ({down:.0f} s down)", count=1)
    lc = Lifecycle(stack, declaration(new_id("restart")))
    http = lc.http
    wrong: list[str] = []

    async def round_open() -> str:
        await lc.start()
        await lc.open_round()
        return await lc.link("input_request", CL_LEAD)

    links: list[str] = []

    async def prepare() -> None:
        links.append(await round_open())

    if not await guarded(lc, prepare):
        row.take(lc)
        return row
    link = links[0]
    before = await lc.recorded()

    fault = stack.fault("Temporal restart")
    stack.temporal.stop()
    went_down = time.monotonic()
    checks: list[tuple[str, httpx.Response, int | tuple[int, int]]] = [
        ("the link's page", await http.get(link), 503),
        ("an input posted", await http.post(f"{link}/input/{PILLAR}", data=form_data("while down")), 503),
    ]
    for what, response, status in checks:
        if problem := clear_page(response, status):
            wrong.append(f"gateway, {what}, while Temporal is down: {problem}")
    ready = await http.get(f"{stack.gateway_url}/readyz")
    if ready.status_code != 503:
        wrong.append(f"/readyz while Temporal is down answered {ready.status_code}, not 503")
    live = await http.get(f"{stack.gateway_url}/healthz")
    if live.status_code != 200:
        wrong.append(f"/healthz (liveness) while Temporal is down answered {live.status_code}")
    for args in (("status", lc.cid), ("round", "status", lc.cid)):
        result = await stack.consult(*args)
        if result.code != 1 or not result.clear:
            wrong.append(f"`consult {' '.join(args[:2])}` while Temporal is down: {result}")
    await asyncio.sleep(max(0.0, down - (time.monotonic() - went_down)))
    stack.temporal.start()
    await stack.temporal_up()
    fault.ended = back = time.monotonic()

    async def recovered() -> None:
        async def page() -> bool:
            return (await http.get(link)).status_code == 200

        async def readiness() -> bool:
            return (await http.get(f"{stack.gateway_url}/readyz")).status_code == 200

        async def cli() -> bool:
            return (await stack.consult("status", lc.cid)).code == 0

        await lc.until(page, "the link's page answering again after the restart")
        await lc.until(cli, "`consult status` answering again after the restart")
        fault.recovery = time.monotonic() - back
        try:
            await lc.until(readiness, "/readyz 200 after the restart", bound=30)
        except Stalled:
            wrong.append("/readyz did not answer 200 within 30 s of the restart")
        if dump(await lc.recorded()) != dump(before):
            wrong.append("what was recorded changed across the restart (an input posted while down was recorded?)")
        await lc.collect_by_links()
        if conclude:
            await lc.approve_minutes_by_links()
            await lc.conclude()

    await guarded(lc, recovered)
    await lc.account()
    for what in wrong:
        lc.problem("wrong", what)
    row.take(lc)
    row.recovery = fault.recovery
    await lc.close()
    return row


# --- hostile input ------------------------------------------------------------------------------


def _declaration_json(cid: str, title: str = '"Joint Declaration"', signed_at: str | None = None) -> str:
    data = declaration(cid)
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace(f'"title": {json.dumps(data["title"])}', f'"title": {title}', 1)
    if signed_at is not None:
        text = text.replace(f'"signed_at": {json.dumps(data["signed_at"])}', f'"signed_at": {signed_at}', 1)
    return text


def cli_cases() -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(what, file name, content, None) for `consult start FILE`; each must be refused with exit 2."""
    cases: list[tuple[str, str, str, dict[str, Any] | None]] = []

    def start(what: str, suffix: str, content: str) -> None:
        cases.append((what, suffix, content, None))

    cid = new_id("bad")
    start("a line break in the title", ".json", _declaration_json(cid, '"Line one\\r\\nBcc: x@evil.example"'))
    data = declaration(new_id("bad"))
    data["parties"][0]["counterparts"][0]["name"] = "Valentina\r\nBcc: x@evil.example"
    start("CR LF in a person's name", ".json", json.dumps(data))
    data = declaration(new_id("bad"))
    start(
        "a YAML block-scalar title over two lines",
        ".yaml",
        yaml.safe_dump(data).replace(
            f"title: {data['title']}", "title: |\n  Joint Declaration\n  on Critical Minerals"
        ),
    )
    start(
        "a control character (BEL) in the title", ".json", _declaration_json(new_id("bad"), '"Joint\\u0007Declaration"')
    )
    start("duplicate JSON keys", ".json", _declaration_json(new_id("bad"), '"One title", "title": "Another"'))
    start("signed_at as a Unix time", ".json", _declaration_json(new_id("bad"), signed_at='"1764200000"'))
    start('signed_at "0"', ".json", _declaration_json(new_id("bad"), signed_at='"0"'))
    start("signed_at as a JSON number", ".json", _declaration_json(new_id("bad"), signed_at="1764200000"))
    start(
        "signed_at 0001-01-01T00:00:00+14:00",
        ".json",
        _declaration_json(new_id("bad"), signed_at='"0001-01-01T00:00:00+14:00"'),
    )
    data = declaration(new_id("bad"))
    start("YAML nested 400 deep", ".yaml", yaml.safe_dump(data) + "extra: " + "[" * 400 + "]" * 400 + "\n")
    start(
        "a JSON integer of 5,000 digits",
        ".json",
        _declaration_json(new_id("bad")).replace(
            '"parties"', '"first_round_within_days": ' + "9" * 5000 + ', "parties"'
        ),
    )
    start("a 200 KB title", ".json", _declaration_json(new_id("bad"), json.dumps("T" * 200_000)))
    return cases


async def bad_cli_input(stack: Stack, lc: Lifecycle, row: Row) -> None:
    """Each hostile declaration is refused (exit 2, a message, no traceback, within 30 s), starts nothing,
    and changes nothing already recorded; the same for a hostile pillar-input file and dates."""
    before = dump(await lc.recorded())

    async def unchanged(what: str) -> None:
        nonlocal before
        after = dump(await lc.recorded())
        if after != before:
            row.problems.append(Problem("wrong", f"{what}: changed what was recorded"))
            before = after

    for what, suffix, content, _ in cli_cases():
        row.count += 1
        path = lc.write(f"bad-{secrets.token_hex(3)}{suffix}", content)
        cid = _id_in(content)
        result = await stack.consult("start", str(path), timeout=30)
        if result.code != 2 or not result.clear:
            row.problems.append(Problem("wrong", f"`consult start` with {what}: {result}"))
        if cid and await _exists(stack, cid):
            row.problems.append(Problem("wrong", f"`consult start` with {what}: the consultation {cid} was started"))
        await unchanged(f"`consult start` with {what}")

    item = '{"instrument": "Guarantee", "amount_usd": 1, "public_share_pct": 5}'
    huge_item = item.replace('"amount_usd": 1', '"amount_usd": ' + "9" * 5000)
    hostile_inputs = [
        (
            "duplicate JSON keys",
            ".json",
            f'{{"author": "{CL_LEAD}", "summary": "A", "summary": "B", "items": [{item}]}}',
        ),
        (
            "a 5,000-digit amount",
            ".json",
            json.dumps({"author": CL_LEAD, "summary": "A", "items": []}).replace("[]", f"[{huge_item}]"),
        ),
        ("YAML nested 400 deep", ".yaml", f"author: {CL_LEAD}\nsummary: " + "[" * 400 + "]" * 400 + "\n"),
    ]
    for what, suffix, content in hostile_inputs:
        row.count += 1
        path = lc.write(f"bad-input-{secrets.token_hex(3)}{suffix}", content)
        result = await stack.consult(
            "input", "submit", lc.cid, str(path), "--party", "CL", "--pillar", PILLAR, timeout=30
        )
        if result.code != 2 or not result.clear:
            row.problems.append(Problem("wrong", f"`consult input submit` with {what}: {result}"))
        await unchanged(f"`consult input submit` with {what}")
    for args in (
        ("extend", lc.cid, "--until", "1764200000", "--reason", "numeric"),
        ("extend", lc.cid, "--until", "2026-12-20", "--reason", "x" * 100_000),
        ("round", "open", lc.cid, "--meeting", "1764200000", "--inputs-due", "0"),
    ):
        row.count += 1
        result = await stack.consult(*args, timeout=30)
        if result.code not in (1, 2) or not result.clear:
            row.problems.append(Problem("wrong", f"`consult {' '.join(a[:40] for a in args[:3])}`: {result}"))
        await unchanged(f"`consult {args[0]}` with a hostile value")


def _id_in(content: str) -> str:
    for line in content.splitlines():
        if line.startswith("id: "):
            return line[4:].strip()
    try:
        return str(json.loads(content, strict=False).get("id", ""))
    except (ValueError, AttributeError):
        marker = '"id": "'
        start = content.find(marker)
        return content[start + len(marker) : content.find('"', start + len(marker))] if start >= 0 else ""


async def _exists(stack: Stack, cid: str) -> bool:
    assert stack.client is not None
    try:
        described = await stack.client.get_workflow_handle(f"consultation-{cid}").describe()
        return described.status is not None and described.status != WorkflowExecutionStatus.TERMINATED
    except Exception:
        return False


def _token(stack: Stack, claims: dict[str, Any]) -> str:
    kid, _, secret = stack.link_keys.partition(":")
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})


async def bad_gateway_requests(stack: Stack, lc: Lifecycle, row: Row, max_form: bool = True) -> None:
    """Malformed posts and tampered tokens get a 4xx page (HTML, security headers) and record nothing;
    the largest form the page offers (200 strategic-project rows) is accepted."""
    link = await lc.link("input_request", CL_LEAD)
    token = link.rsplit("/l/", 1)[1]
    base = link.rsplit("/l/", 1)[0]
    claims = jwt.decode(token, options={"verify_signature": False})
    form = f"{link}/input/{PILLAR}"
    before = dump(await lc.recorded())
    http = lc.http
    cases: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
        ("rows=²", lambda: http.post(form, data={**form_data("x"), "rows": "²"})),
        ("rows of 5,000 digits", lambda: http.post(form, data={**form_data("x"), "rows": "9" * 5000})),
        (
            "action=remove-<5,000 digits>",
            lambda: http.post(form, data={**form_data("x"), "action": "remove-" + "9" * 5000}),
        ),
        (
            "a file part named summary",
            lambda: http.post(
                form,
                data={k: v for k, v in form_data("x").items() if k != "summary"},
                files={"summary": ("summary.txt", b"from a file", "text/plain")},
            ),
        ),
        ("a 5 MB body", lambda: http.post(form, data={**form_data("x"), "summary": "x" * 5_000_000})),
        ("a decision posted to an input link", lambda: http.post(f"{link}/decision", data={"decision": "approve"})),
        ("an unknown decision", lambda: http.post(f"{link}/decision", data={"decision": "bogus"})),
        ("a tampered token", lambda: http.get(f"{base}/l/{token[:-3]}{'AAA' if token[-3:] != 'AAA' else 'BBB'}")),
        (
            "a token from no key of ours",
            lambda: http.get(
                f"{base}/l/" + jwt.encode(claims, "z" * 48, algorithm=ALGORITHM, headers={"kid": "other"})
            ),
        ),
        ("a token with exp=1e30", lambda: http.get(f"{base}/l/" + _token(stack, {**claims, "exp": 1e30}))),
        (
            "a token missing claims",
            lambda: http.get(f"{base}/l/" + _token(stack, {"aud": AUDIENCE, "sub": CL_LEAD, "exp": claims["exp"]})),
        ),
        (
            "a token for another consultation",
            lambda: http.get(
                f"{base}/l/" + _token(stack, {**claims, "wf": "consultation-nope-round-1", "cid": "nope"})
            ),
        ),
        ("a path with a NUL", lambda: http.get(f"{link}/input/%00")),
    ]
    for what, send in cases:
        row.count += 1
        try:
            response = await send()
            wrong = clear_page(response, (400, 499))
        except httpx.HTTPError as error:
            wrong = f"no answer ({type(error).__name__})"
        if wrong:
            row.problems.append(Problem("wrong", f"gateway, {what}: {wrong}"))
        after = dump(await lc.recorded())
        if after != before:
            row.problems.append(Problem("wrong", f"gateway, {what}: changed what was recorded"))
            before = after
    if max_form and "strategic_projects" in lc.agenda:
        row.count += 1
        response = await http.post(
            f"{link}/input/strategic_projects", data=form_data("the largest form", "strategic_projects", 200)
        )
        if response.status_code != 303:
            row.problems.append(
                Problem("wrong", f"gateway, a 200-row form (the maximum the page offers): {response.status_code}")
            )
        else:
            lc.ledger.inputs.append(("CL", "strategic_projects", "the largest form"))


async def hostile_input(stack: Stack, gateway: bool = True, cli: bool = True) -> list[Row]:
    """A round collecting inputs; hostile CLI files and gateway requests at it; then the round goes on."""
    cli_row, gateway_row = Row("bad CLI input"), Row("bad gateway requests")
    lc = Lifecycle(stack, declaration(new_id("hostile")), agenda=(PILLAR, "strategic_projects"))

    async def steps() -> None:
        await lc.start()
        await lc.open_round()
        await lc.link("input_request", CL_LEAD)
        if cli:
            await bad_cli_input(stack, lc, cli_row)
        if gateway:
            await bad_gateway_requests(stack, lc, gateway_row)
        await lc.collect_by_links()
        await lc.approve_minutes_by_links()

    await guarded(lc, steps)
    await lc.account()
    rows = [r for r, on in ((cli_row, cli), (gateway_row, gateway)) if on]
    rows[-1].take(lc)
    await lc.close()
    return rows

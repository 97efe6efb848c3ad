"""The benchmark's pure parts (no timing, nothing started): percentiles, ratios, targets, the table,
the history analysis on hand-made events, and the reading side of the SMTP sink (the chaos suite's
too). `make bench` itself is not a test."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.api.history.v1 import (
    HistoryEvent,
    UpsertWorkflowSearchAttributesEventAttributes,
    WorkflowExecutionStartedEventAttributes,
)

from bench.figures import Figure, Target, missed, percentile, table
from bench.history import noop_upserts, payloads
from bench.run import FULL, QUICK, Figures, Sizes
from bench.scenario import Lifecycle, bare_payloads, duplicates, updates_per_lifecycle
from bench.sink import Mailbox, _link
from bench.stack import persistence_operations


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert percentile(list(range(101)), 99) == 99
    assert math.isclose(percentile([0, 10], 99), 9.9)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_ratios_say_how_many_times_worse_per_repetition() -> None:
    latency = Figure("p99", "ms", Target("ratio", 1.5))
    for project, bare in ((30, 10), (20, 10), (12, 10)):
        latency.add(project, bare)
    assert latency.ratio == 2.0 and latency.project_value == 20 and latency.met is False
    throughput = Figure("rate", "/s", Target("ratio", 2), higher_is_better=True)
    throughput.add(4, 6)
    assert throughput.ratio == 1.5 and throughput.met is True


def test_absolute_targets_and_unmeasured_figures() -> None:
    zero = Figure("timeouts", "", Target("max", 0))
    zero.add(0, 3)
    assert zero.met is True
    unmeasured = Figure("rss", "MB", Target("ratio", 1.5))
    assert unmeasured.met is False and unmeasured.ratio is None
    info = Figure("wall", "s")
    info.add(1.0)
    assert info.met is None
    assert missed([zero, unmeasured, info]) == [unmeasured]
    busy = Figure("rss", "MB", Target("ratio", 1.5), unsure=True)
    busy.add(100, 90)
    assert busy.met is True and busy.row()[-1] == "?" and missed([busy]) == [busy]
    with pytest.raises(ValueError):
        Figure("x", "furlongs")


def test_the_table_has_every_column_and_row() -> None:
    f = Figure("decision POST p99", "ms", Target("ratio", 1.5))
    f.add(181, 73)
    g = Figure("help", "s", Target("max", 0.3))
    g.add(0.25)
    lines = table([f, g]).splitlines()
    assert "figure" in lines[0] and "met?" in lines[0]
    assert "181 ms" in lines[2] and "73 ms" in lines[2] and "2.48×" in lines[2] and "**NO**" in lines[2]
    assert "0.25 s" in lines[3] and "yes" in lines[3]
    assert len({len(line) for line in lines}) == 1  # aligned


@pytest.mark.parametrize(("rounds", "updates"), [(1, 17), (2, 29)])
async def test_the_bare_lifecycle_sends_as_many_updates_as_the_project(
    rounds: int, updates: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the project's lifecycle really asks for (its actions counted, its waits passed), against the
    bare workflow's requests: both sides of figure 3 do the same work."""
    actions: list[str] = []

    async def act(self: Lifecycle, what: str, action: Callable[[], Awaitable[object]]) -> None:
        actions.append(what)

    async def until(self: Lifecycle, what: str, check: Callable[[], Awaitable[bool]], bound: float = 0) -> None:
        return None

    monkeypatch.setattr(Lifecycle, "act", act)
    monkeypatch.setattr(Lifecycle, "until", until)
    await Lifecycle(None, "bench", "bench-updates-count").whole(rounds)  # type: ignore[arg-type]
    sent = [what for what in actions if what != "start"]  # the start is a workflow start on both sides
    assert len(sent) == updates == len(bare_payloads(rounds)) == updates_per_lifecycle(rounds)


def test_duplicates_count_every_second_record() -> None:
    assert duplicates(["a", "b", "a", "a"]) == 2


def _attrs(**values: str) -> SearchAttributes:
    return SearchAttributes(indexed_fields={k: Payload(data=v.encode()) for k, v in values.items()})


def test_an_upsert_that_sets_nothing_new_is_counted() -> None:
    events = [
        HistoryEvent(
            workflow_execution_started_event_attributes=WorkflowExecutionStartedEventAttributes(
                search_attributes=_attrs(Stage="declared")
            )
        ),
        HistoryEvent(
            upsert_workflow_search_attributes_event_attributes=UpsertWorkflowSearchAttributesEventAttributes(
                search_attributes=_attrs(Stage="declared")
            )
        ),
        HistoryEvent(
            upsert_workflow_search_attributes_event_attributes=UpsertWorkflowSearchAttributesEventAttributes(
                search_attributes=_attrs(Stage="technical_rounds")
            )
        ),
    ]
    assert noop_upserts(events) == (1, 2)
    assert [p.data for p in payloads(events[0])] == [b"declared"]


def test_the_sink_keeps_the_link_of_the_plain_text_part() -> None:
    message = EmailMessage()
    message["Subject"] = "Your approval"
    message.set_content("Decide here: https://gw.example/l/abc.DEF-123_~x\nThanks")
    message.add_alternative("<a href='https://gw.example/l/html-only'>decide</a>", subtype="html")
    assert _link(message.as_bytes()) == "https://gw.example/l/abc.DEF-123_~x"
    assert _link(b"Subject: no body link\r\n\r\nnothing here") == ""


def test_the_mailbox_reads_whole_lines_only_and_filters(tmp_path: Path) -> None:
    index = tmp_path / "mail.jsonl"
    mailbox = Mailbox(index)
    assert mailbox.of("c1") == []  # no index yet

    def line(mid: str, to: list[str], kind: str, link: str = "") -> str:
        return json.dumps({"mid": mid, "to": to, "cid": "c1", "kind": kind, "at": 1.0, "link": link}) + "\n"

    first = line("<c1-r1-approval.h1@x>", ["a@x", "b@x"], "approval_request", "https://gw/l/1")
    second = line("<c1-r1-approval.h2@x>", ["a@x"], "approval_request", "https://gw/l/2")
    index.write_text(first + second[:10])  # the sink is mid-write
    assert [m.recipient for m in mailbox.of("c1")] == ["a@x", "b@x"]
    with index.open("a") as f:
        f.write(second[10:] + line("<c1-opened.h3@x>", ["a@x"], "opened"))
    assert len(mailbox.of("c1", recipient="a@x")) == 3
    assert [m.kind for m in mailbox.of("c1", "opened")] == ["opened"]
    assert mailbox.link("c1", "approval_request", "a@x") == "https://gw/l/2"
    assert mailbox.link("c1", "opened", "a@x") is None
    assert mailbox.of("c1", "opened")[0].notice_id == "c1-opened"
    assert mailbox.of("c2") == []


@pytest.mark.parametrize("sizes", [FULL, QUICK], ids=["full", "quick"])
def test_every_figure_of_a_run_can_be_made_and_shown(sizes: Sizes) -> None:
    # A unit the table does not know fails at start, before the stack is up, not after minutes of a run.
    figures = Figures(sizes)
    rows = figures.of(["history", "links", "lifecycles", "scale"])
    for figure in rows:
        figure.add(2.0, 1.0)
    lines = table(rows).splitlines()
    assert len(lines) == len(rows) + 2
    assert any("database operations per lifecycle" in line and "| 2 " in line for line in lines)


def test_database_operations_are_the_persistence_request_counters_summed() -> None:
    metrics = "\n".join(
        [
            "# HELP persistence_requests persistence_requests counter",
            "# TYPE persistence_requests counter",
            'persistence_requests{operation="UpdateWorkflowExecution",service_name="history"} 72',
            'persistence_requests{operation="GetCurrentExecution",service_name="frontend"} 53.5',
            'persistence_errors{operation="CreateTasks"} 9',
            'persistence_latency_bucket{operation="CreateTasks",le="0.01"} 40',
            'persistence_latency_sum{operation="CreateTasks"} 0.5',
        ]
    )
    assert persistence_operations(metrics) == 125.5
    assert persistence_operations("") == 0

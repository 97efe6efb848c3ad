"""`make bench` (`python -m bench`): the project against bare Temporal, on this machine, in one run.

Not a test: it starts the parts as separate processes on free loopback ports (the Temporal dev server
on a SQLite file, `consult worker`, `consult gateway`, an SMTP sink counting messages, and the bare
baselines: a worker of one trivial workflow with plain temporalio defaults, and a FastAPI app of the
gateway's shape), measures each figure for the project and its bare baseline back to back, three
repetitions (the order alternates), and prints a table: figure | project | bare | ratio | target | met?.
The ratio says how many times worse the project is (project/bare; bare/project for throughput), as
the median of the per-repetition ratios. It exits 1 if a target is missed or could not be measured.
Everything it started is stopped on the way out (process groups, `finally`, `atexit`, and each child
gets SIGTERM if the benchmark dies); every wait is bounded. `--quick` runs small sizes once, for
development (about 3 minutes); `--only GROUP...` runs some groups; `--reps N`.

The consultation is the founding case's shape (examples/chile-us-2026.yaml): 2 parties, 4 pillars,
8 people; driven with the operations API (`operations.consultations`) from this process, as the CLI
drives it. The bare workflow (bench/bare_workflow.py) keeps each update's request and answers it
back, answers a query with its count and last request, and waits on a 15-day timer.

Figures and baselines (targets from issue 11):

1. **Email-link decision, POST → response p99** (group `links`): each approver's real link, read
   from the approval email the sink received, POSTed `decision=approve`, one at a time (20
   consultations at minutes approval × 3 approvers per repetition). Bare: a FastAPI route reading
   the form and doing one `execute_update`. Target ≤ 1.5×.
2. **Decision visible in status, p50** (`links`): from `decide_current_minutes` until `round_status`
   shows the decision (5 consultations × 3 approvers). Bare: `execute_update` then the query until it
   shows it. Target ≤ 1.5×.
3. **100 concurrent full lifecycles** (`lifecycles`): start, open round 1, 8 inputs, 3 decisions on
   the minutes, drafting, a draft, 3 decisions on it, concluded: 17 updates, with the waits an
   operator has (round opened, minutes written, draft awaiting approval, concluded) polled through
   `status`/`round_status`. Throughput (lifecycles concluded per second), wall time, operator-visible
   timeouts (on actions, each retried with the same request, and on status reads) and other errors,
   lifecycles not concluded within 3× the bare run's time (at least 60 s, at most 150 s: a project
   still running then is under a third of bare's throughput, a miss however it would end; they are
   then terminated, so their leftovers do not weigh on what follows), duplicates (an input or
   decision recorded twice), the CPU the worker, the server and this client used, and the server's
   database operations per lifecycle (its `persistence_requests` metrics: on the dev server's SQLite
   file, with one connection, the rate of those bounds both sides' throughput). Bare (first in
   each repetition, for that bound): the same 17 requests as updates (with update ids) on a trivial
   workflow that ends after the last. Targets: throughput ratio ≤ 2× (≥ 50% of bare), zero timeouts,
   every lifecycle concluded, zero duplicates.
4. **History of one 2-round lifecycle** (`history`, once: it is deterministic): events and bytes
   (sum of `len(event.SerializeToString())` from `fetch_history`) of the consultation and its rounds,
   and with the notice deliveries (children found from the child-started events), a breakdown per
   workflow type with the heaviest event types, search-attribute upserts that set nothing new, and
   large payloads (≥ 1 KB) carried again in a later event. Bare: the trivial workflow with the same
   29 requests as updates. Targets: ≤ 360 events (consultation + rounds), ≤ 5× the bare bytes, no
   no-op upsert.
5. **Worker memory with 1,000 open consultations** (`scale`): a fresh `consult worker` on a namespace
   of its own, 1,000 consultations started (waiting on their first-round timers), then VmRSS once the
   worker is idle (and its growth from its own start). Bare: a fresh bare worker holding 1,000 trivial
   workflows waiting on a timer. Target ≤ 1.5× (absolute RSS).
6. **1,000 opening notices delivered** (`scale`, same run as 5): from the first start until the sink
   has all 8,000 emails. Target ≤ 30 s (absolute; scaled to the count with `--quick`). It waits 60 s
   at most (then shows "≥", and figure 5's RSS is read with mail still going out, as it says).
7. **The CLI** (`links`, and `scale` for `list`): `consult status ID` wall time as a subprocess
   (median of 5) vs a bare SDK script (`bench/bare_cli.py`: connect, one query, print JSON), target
   ≤ 1.3×; `consult --help`, target < 0.3 s; `consult list --json` with the 1,000 consultations of
   figure 5 vs the bare script's `list_workflows` + JSON print, target ≤ 1.3×.
8. **Gateway link page GET p50 and p99 at 20 in flight** (`links`): 400 GETs of the approval links
   (httpx, 20 lanes) after a warm-up. Bare: a FastAPI route doing one query and rendering a small
   Jinja template. Target ≤ 1.5× for both.

After each step it prints how long it took and how many cores this benchmark's processes and the
rest of the machine used meanwhile: on a shared machine, read the table with that in mind.
"""

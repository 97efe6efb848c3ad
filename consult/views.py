"""How the CLI shows things to an operator (Rich), kept apart from what it does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# The formatting (and the schemas) are loaded by the views that need them: `consult list` loads no schema.
if TYPE_CHECKING:
    from schemas.annexes import FileRecord
    from schemas.consultation import ConsultationStatus
    from schemas.notices import NoticeRecord
    from schemas.rounds import RoundStatus


def show_status(console: Console, s: ConsultationStatus) -> None:
    from infra.formatting import display_tz, fmt, fmt_counted

    tz = display_tz(s.signed_at)

    def when(moment: datetime | None) -> str:
        return fmt(moment, tz) if moment else "—"

    stage = f"[bold]{s.stage.value}[/bold]" + ("  [red bold]OVERDUE[/red bold]" if s.overdue else "")
    # What people wrote is shown as written: `[draft]` is text, not Rich markup (`[/bold]` would raise).
    console.print(f"[bold]{escape(s.title)}[/bold]  ({s.workflow_id})")
    summary = Table.grid(padding=(0, 2))
    summary.add_row("Stage", stage)
    summary.add_row("Parties", ", ".join(s.parties))
    summary.add_row("Pillars", ", ".join(p.value for p in s.pillars))
    summary.add_row("Signed", when(s.signed_at))
    summary.add_row("First-round deadline", fmt_counted(s.first_round_deadline, s.first_round_counting, tz))
    summary.add_row("Next deadline", when(s.next_deadline))
    console.print(summary)
    if s.rounds:
        rounds = Table(title="Rounds", title_justify="left")
        for column in ("#", "state", "meeting", "inputs due", "inputs in", "minutes"):
            rounds.add_column(column, overflow="fold")
        for r in s.rounds:
            cells = [revision for row in r.grid.values() for revision in row.values()]
            minutes = f"v{r.minutes_version} {r.minutes_sha256[:12]}…" if r.minutes_sha256 else "—"
            rounds.add_row(
                str(r.number),
                r.state.value + (" [red]OVERDUE[/red]" if r.overdue else ""),
                when(r.meeting_at),
                when(r.inputs_due),
                f"{sum(1 for c in cells if c)}/{len(cells)}",
                minutes,
            )
        console.print(rounds)
    if s.extensions:
        extensions = Table(title="Extensions", title_justify="left")
        for column in ("from", "to", "by", "reason"):
            extensions.add_column(column)
        for e in s.extensions:
            extensions.add_row(when(e.previous_deadline), when(e.new_deadline), e.by, escape(e.reason))
        console.print(extensions)
    if s.withdrawal:
        console.print(f"Withdrawn {when(s.withdrawal.at)} by {s.withdrawal.by}: {escape(s.withdrawal.reason)}")
    if s.drafts:
        d = s.drafts[-1]
        console.print(f"Agreement draft version {d.version}, SHA-256 {d.sha256}")
        show_files(console, [(f"draft v{d.version} annex", f) for f in d.annexes], when)
    show_notices(console, s.notices, when)


def show_round(console: Console, r: RoundStatus) -> None:
    from infra.formatting import display_tz, fmt

    tz = display_tz(r.meeting_at)  # the zone the round was opened in

    def when(moment: datetime | None) -> str:
        return fmt(moment, tz) if moment else "—"

    console.print(f"[bold]Round {r.number}[/bold] ({r.workflow_id}): [bold]{r.state.value}[/bold]")
    facts = Table.grid(padding=(0, 2))
    facts.add_row("Meeting", when(r.meeting_at))
    facts.add_row("Inputs due", when(r.inputs_due))
    if r.inputs_closed_at:
        facts.add_row("Inputs closed", f"{when(r.inputs_closed_at)} — {escape(r.close_reason or '')}")
    if r.minutes:
        m = r.minutes[-1]
        facts.add_row("Minutes", f"version {m.version}, SHA-256 {m.sha256}")
    if r.approval:
        parties = ", ".join(f"{code}: {outcome.value}" for code, outcome in r.approval.parties.items())
        overdue = "  [red]OVERDUE[/red]" if r.approval.overdue else ""
        facts.add_row("Approval", f"{r.approval.outcome.value} ({parties}); due {when(r.approval.deadline)}{overdue}")
    console.print(facts)
    grid = Table(title="Inputs (revision; — missing)", title_justify="left")
    grid.add_column("party")
    for pillar in r.pillars:
        grid.add_column(pillar.value)
    for party, row in r.grid.items():
        grid.add_row(party, *[str(row[p]) if row[p] else "[red]—[/red]" for p in r.pillars])
    console.print(grid)
    attached = [
        (f"{x.input.party}/{x.input.pillar.value} rev {x.revision}", f)
        for x in r.submissions
        if x.superseded_at is None
        for f in x.input.attachments
    ]
    if r.minutes:
        attached += [(f"minutes v{r.minutes[-1].version} annex", f) for f in r.minutes[-1].annexes]
    show_files(console, attached, when)
    if r.decisions:
        decisions = Table(title="Decisions", title_justify="left")
        for column in ("when", "party", "approver", "decision", "version", "channel", "comment"):
            decisions.add_column(column, overflow="fold")
        for d in r.decisions:
            decisions.add_row(
                when(d.at),
                d.party,
                escape(d.approver_name),
                d.decision.value,
                str(d.version),
                d.channel.value,
                escape(d.comment),
            )
        console.print(decisions)
    if r.notices:
        show_notices(console, r.notices, when)


def show_files(console: Console, files: list[tuple[str, FileRecord]], when: Callable[[datetime | None], str]) -> None:
    """The files attached to what is current (inputs, minutes, the draft): where, name, type, size, SHA-256."""
    if not files:
        return
    table = Table(title="Files", title_justify="left")
    for column in ("attached to", "file", "type", "size (bytes)", "SHA-256", "attached by", "when"):
        table.add_column(column, overflow="fold")
    for where, f in files:
        table.add_row(
            where, escape(f.name), f.media_type.label, f"{f.size:,}", f.sha256, f.attached_by, when(f.attached_at)
        )
    console.print(table)


def show_notices(console: Console, records: list[NoticeRecord], when: Callable[[datetime | None], str]) -> None:
    """Every notice, its delivery state and what went wrong: why one is still pending, who refused it, who
    could not be reached."""
    from schemas.notices import NoticeState

    notices = Table(title="Notices", title_justify="left")
    for column in ("when", "notice", "state", "delivered", "problems"):
        notices.add_column(column, overflow="fold")
    for n in records:
        state = {
            NoticeState.PENDING: "[yellow]pending[/yellow]",
            NoticeState.FAILED: "[red]failed[/red]",
        }.get(n.state, n.state.value)
        problems = [n.pending_reason] if n.state is NoticeState.PENDING and n.pending_reason else []
        problems += [n.error] if n.error else []
        problems += [f"{who} refused: {why}" for who, why in n.refused.items()]
        problems += [f"{who} not sent: {why}" for who, why in n.failed.items()]
        notices.add_row(
            when(n.issued_at),
            n.kind,
            state,
            f"{len(n.delivered)}/{len(n.recipients)}",
            escape("; ".join(problems)),
        )
    console.print(notices)


def show_schedules(console: Console, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    table = Table(title="Review schedules", title_justify="left")
    for column in ("schedule", "consultation", "every (days)", "next run (UTC)", "runs so far"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), str(r["consultation"]), str(r["every_days"]), str(r["next_run"]), str(r["runs"]))
    console.print(table)


def show_listing(console: Console, rows: list[dict[str, object]]) -> None:
    if not rows:
        console.print("No consultations match.")
        return
    table = Table()
    for column in ("id", "stage", "overdue", "next deadline (UTC)", "parties", "status"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["stage"] or "—"),
            "[red]yes[/red]" if r["overdue"] else "no",
            str(r["next_deadline"] or "—").removesuffix("+00:00").replace("T", " ")[:16],
            ", ".join(str(p) for p in r["parties"]) if isinstance(r["parties"], list) else "",
            str(r["status"]),
        )
    console.print(table)

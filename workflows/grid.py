"""The party × pillar grid of a round: pure functions over the submissions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas.declaration import Pillar
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import Grid, SubmitInputRequest


def with_submission(
    submissions: list[SubmissionRecord], request: SubmitInputRequest, now: datetime
) -> tuple[list[SubmissionRecord], SubmissionRecord]:
    """Every submission with the new one appended as the next revision of its cell; the one it replaces
    is kept, marked superseded."""
    key = (request.input.party, request.input.pillar)
    same_cell = [s for s in submissions if (s.input.party, s.input.pillar) == key]
    updated = [
        s.model_copy(update={"superseded_at": now})
        if (s.input.party, s.input.pillar) == key and s.superseded_at is None
        else s
        for s in submissions
    ]
    record = SubmissionRecord(
        revision=len(same_cell) + 1,
        input=request.input,
        submitted_by=request.submitted_by,
        channel=request.channel,
        submitted_at=now,
    )
    return [*updated, record], record


def build_grid(parties: list[str], pillars: list[Pillar], current: Iterable[SubmissionRecord]) -> Grid:
    grid: Grid = {party: dict.fromkeys(pillars, 0) for party in parties}
    for record in current:
        grid[record.input.party][record.input.pillar] = record.revision
    return grid


def missing(grid: Grid) -> list[str]:
    """`PARTY/pillar` for every cell with nothing submitted, in grid order."""
    return [
        f"{party}/{pillar.value}" for party, row in grid.items() for pillar, revision in row.items() if not revision
    ]


def is_complete(grid: Grid) -> bool:
    return not missing(grid)


def grid_markdown(grid: Grid) -> str:
    """A table for the Temporal UI: ✓ (with the revision after the first) or — per cell."""
    if not grid:
        return ""
    pillars = list(next(iter(grid.values())))
    # The Temporal UI draws tables without cell padding: no-break spaces keep the
    # pillar names from running into each other.
    pad = "\u00a0\u00a0"
    lines = [
        "| party | " + " | ".join(f"{pad}{p.value}{pad}" for p in pillars) + " |",
        "|---|" + "---|" * len(pillars),
    ]
    for party, row in grid.items():
        cells = ["—" if not row[p] else ("✓" if row[p] == 1 else f"✓ (rev {row[p]})") for p in pillars]
        lines.append(f"| {party} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""The figures, their targets and the table: pure code, no timing (tests/test_bench.py runs it).

A `Figure` collects one value per repetition for the project and, when it has one, for its bare
baseline measured in the same repetition. The table shows the median of each, and the ratio: how many
times worse the project is (project/bare for times, sizes and memory; bare/project for throughput),
the median of the per-repetition ratios (each pair ran back to back, so a machine busy for a while
weighs on both sides of the same ratio).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Target:
    """`ratio`: the project at most `value` times worse than bare; `max`: the project's value at most `value`."""

    kind: Literal["ratio", "max"]
    value: float

    def __str__(self) -> str:
        if self.kind == "ratio":
            return f"≤{self.value:g}×"
        return f"≤{self.value:g}"


UNITS = {"ms", "s", "MB", "KB", "events", "operations", "/s", ""}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
    if unit == "/s":
        return f"{value:.2f}/s"
    if unit in ("MB", "KB"):
        return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    if unit in ("events", "operations"):
        return f"{value:.0f}"
    return f"{value:g}"


@dataclass
class Figure:
    name: str
    unit: str
    target: Target | None = None
    higher_is_better: bool = False
    project: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Some repetition stopped waiting at a bound: the project's value is at least what it shows.
    at_least: bool = False
    # Not measured as the figure says (a note says why): its target can be neither met nor missed.
    unsure: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}")
        if self.target is not None and self.target.kind == "max" and self.higher_is_better:
            raise ValueError("a `max` target is for values where lower is better")

    def add(self, project: float | None, bare: float | None = None, *, at_least: bool = False) -> None:
        self.at_least = self.at_least or (at_least and project is not None)
        if project is not None:
            self.project.append(project)
        if bare is not None:
            self.bare.append(bare)

    @property
    def project_value(self) -> float | None:
        return median(self.project) if self.project else None

    @property
    def bare_value(self) -> float | None:
        return median(self.bare) if self.bare else None

    def _worse(self, project: float, bare: float) -> float:
        top, bottom = (bare, project) if self.higher_is_better else (project, bare)
        if bottom == 0:
            return 1.0 if top == 0 else math.inf
        return top / bottom

    @property
    def ratio(self) -> float | None:
        """How many times worse than bare: the median of the per-repetition ratios when every repetition
        has both sides, else the ratio of the medians."""
        if not self.project or not self.bare:
            return None
        if len(self.project) == len(self.bare):
            return median([self._worse(p, b) for p, b in zip(self.project, self.bare, strict=True)])
        assert self.project_value is not None and self.bare_value is not None
        return self._worse(self.project_value, self.bare_value)

    @property
    def met(self) -> bool | None:
        """None without a target; False when the target could not be measured."""
        if self.target is None:
            return None
        if self.target.kind == "ratio":
            ratio = self.ratio
            return ratio is not None and ratio <= self.target.value
        value = self.project_value
        return value is not None and value <= self.target.value

    def row(self) -> list[str]:
        ratio = self.ratio
        met = "?" if self.unsure and self.target else {None: "", True: "yes", False: "**NO**"}[self.met]
        return [
            self.name,
            ("≥" if self.at_least else "") + fmt(self.project_value, self.unit),
            fmt(self.bare_value, self.unit),
            "—" if ratio is None else ("∞" if math.isinf(ratio) else f"{ratio:.2f}×"),
            str(self.target) if self.target else "",
            met,
        ]


HEADER = ["figure", "project", "bare", "ratio", "target", "met?"]


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table (it reads as plain text too, and pastes into the README)."""
    rows = [HEADER, *(f.row() for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


def notes(figures: Sequence[Figure]) -> list[str]:
    """What the table cannot say in a cell, once each."""
    return list(dict.fromkeys(f"{f.name}: {note}" for f in figures for note in f.notes))


def missed(figures: Sequence[Figure]) -> list[Figure]:
    """Targets missed, or not known to be met (unmeasured, or measured otherwise than the figure says)."""
    return [f for f in figures if f.met is False or (f.unsure and f.target is not None)]

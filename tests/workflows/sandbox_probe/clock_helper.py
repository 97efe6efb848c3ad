"""A careless workflow helper: it reads the wall clock, which breaks replay."""

from __future__ import annotations

from datetime import datetime


def stamp() -> str:
    return datetime.now().isoformat()

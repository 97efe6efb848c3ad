"""One stack of real processes for the fast chaos tests (tests/chaos/test_chaos.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.chaos.stack import Stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with Stack(Path(tmp_path_factory.mktemp("chaos"))) as started:
        yield started

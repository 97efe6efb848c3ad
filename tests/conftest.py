"""Session-wide real servers: the time-skipping test server, the Temporal dev server, an SMTP server.

The dev server and the SMTP server start once per run; tests isolate themselves
with unique workflow ids and task queues, and filter the shared outbox by
consultation id. The time-skipping server is cheap and starts per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from consult import binaries
from consult.outbox import Outbox
from infra.local import free_port, register_search_attributes
from schemas import search_attributes as sa
from tests.helpers import SERVER_STARTUP


@pytest_asyncio.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own (0.1 s to start).

    Shared across tests, one test's leftovers (a workflow task handed to a
    worker that has since stopped) can hold the skipped clock still for all
    the tests after it; a server per test keeps every clock test independent.
    """
    # A missing binary raises MissingBinary here: the suite fails loudly, it never downloads.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binaries.time_skipping_test_server(),
        data_converter=pydantic_data_converter,
        test_server_startup_timeout=SERVER_STARTUP,
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.temporal_cli(),
        search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        ui=False,
        dev_server_startup_timeout=SERVER_STARTUP,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outbox]:
    box = Outbox(Path(tmp_path_factory.mktemp("outbox")), port=free_port()).start()
    yield box
    box.stop()

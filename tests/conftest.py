"""Session-wide real servers: the time-skipping test server, the Temporal dev server, an SMTP server,
and the store External Storage keeps files and large payloads in.

The dev server and the SMTP server start once per run; tests isolate themselves
with unique workflow ids and task queues, and filter the shared outbox by
consultation id. The time-skipping server is cheap and starts per test.

The store: a folder of the run's (`fs`), or with `CONSULT_TEST_STORAGE=s3` a bucket on a real S3 API on
loopback (moto in server mode, a process of its own). Either way the run exports it as CONSULT_STORAGE*
and CONSULT_S3_* (with test AWS credentials for s3), so every process a test starts (a worker, the
gateway, `consult ...`) reads and writes the same store as the suite's own clients and workers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from consult import binaries
from consult.dev import SERVER_TUNING, die_with_parent
from consult.outbox import Outbox
from infra import logs
from infra.local import free_port, register_search_attributes
from infra.settings import Settings
from infra.temporal import data_converter
from schemas import search_attributes as sa
from tests.helpers import SERVER_STARTUP

# `fs` (default) or `s3`: the store of the whole run (`make test` runs `-m files` again with s3).
TEST_STORAGE = os.environ.get("CONSULT_TEST_STORAGE", "fs")
if TEST_STORAGE not in ("fs", "s3"):
    raise pytest.UsageError(f"CONSULT_TEST_STORAGE must be fs or s3, not {TEST_STORAGE!r}")
S3_BUCKET = "consult-test"
# Test credentials for moto (it accepts any); real ones in the shell are set aside for the run.
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def exported(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ (so processes started meanwhile inherit them), the old ones back after."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class S3Server:
    """A real S3 API on loopback (moto in server mode) and the run's bucket on it."""

    endpoint_url: str
    bucket: str
    region: str = "us-east-1"

    def client(self) -> Any:
        """A plain (synchronous) boto3 client on it, to look at what the store holds."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region)

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str | None = None) -> Settings:
        """Settings of a process storing in this server's bucket (or another one of its buckets)."""
        return Settings(
            storage="s3",
            s3_bucket=bucket or self.bucket,
            s3_endpoint_url=self.endpoint_url,
            s3_region=self.region,
            payload_keys=None,
        )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, in a process of its own, with the bucket `consult-test`;
    test AWS credentials are exported for the session. Started only when a test or the run needs it."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("moto")) / "moto.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    try:
        deadline = time.monotonic() + SERVER_STARTUP.total_seconds()
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited ({process.returncode}); see {log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not listen on 127.0.0.1:{port}; see {log}") from None
                time.sleep(0.1)
        with exported(AWS_TEST_ENV):
            server = S3Server(f"http://127.0.0.1:{port}", S3_BUCKET)
            server.create_bucket(S3_BUCKET)
            yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session", autouse=True)
def logs_as_every_process_writes_them() -> None:
    """Log lines go to stderr, as in every process of the system (a worker in the test's process must not
    write into the stdout of a CLI command run beside it); unconfigured, structlog would print to stdout."""
    logs.configure("console", "INFO")


@pytest.fixture(scope="session", autouse=True)
def storage_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings naming the run's store (`fs`: a folder of the run; `s3`: the moto bucket), exported as
    CONSULT_STORAGE* / CONSULT_S3_* for the whole session: a worker, a gateway or `consult` started by a
    test (in this process or as a subprocess inheriting os.environ) uses the same store. Nothing else of
    the environment counts (no payload keys): copy it with more, e.g.
    `storage_settings.model_copy(update={"payload_keys": SecretStr(keys)})`."""
    if TEST_STORAGE == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        settings = server.settings()
        env = {
            "CONSULT_STORAGE": "s3",
            "CONSULT_S3_BUCKET": server.bucket,
            "CONSULT_S3_ENDPOINT_URL": server.endpoint_url,
            "CONSULT_S3_REGION": server.region,
        }
    else:
        folder = Path(tmp_path_factory.mktemp("storage"))
        settings = Settings(storage="fs", storage_dir=folder, payload_keys=None)
        env = {"CONSULT_STORAGE": "fs", "CONSULT_STORAGE_DIR": str(folder)}
    with exported(env):
        yield settings


@pytest.fixture(scope="session")
def storage_env(storage_settings: Settings) -> dict[str, str]:
    """The run's store as environment variables, for a process started with an environment of its own
    (os.environ already carries them for the others)."""
    names = ["CONSULT_STORAGE", "CONSULT_STORAGE_DIR", "CONSULT_S3_BUCKET", "CONSULT_S3_ENDPOINT_URL"]
    names += ["CONSULT_S3_REGION", *AWS_TEST_ENV] if storage_settings.storage == "s3" else []
    return {name: os.environ[name] for name in names if name in os.environ}


@pytest.fixture(scope="session")
def suite_converter(storage_settings: Settings) -> DataConverter:
    """The suite's data converter: the project's (pydantic, External Storage on the run's store), no encryption."""
    return data_converter(storage_settings)


@pytest_asyncio.fixture
async def time_env(suite_converter: DataConverter) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own (0.1 s to start).

    Shared across tests, one test's leftovers (a workflow task handed to a
    worker that has since stopped) can hold the skipped clock still for all
    the tests after it; a server per test keeps every clock test independent.
    """
    # A missing binary raises MissingBinary here: the suite fails loudly, it never downloads.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binaries.time_skipping_test_server(),
        data_converter=suite_converter,
        test_server_startup_timeout=SERVER_STARTUP,
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env(suite_converter: DataConverter) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.temporal_cli(),
        search_attributes=sa.ALL,
        data_converter=suite_converter,
        dev_server_log_level="error",
        dev_server_extra_args=list(SERVER_TUNING),
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

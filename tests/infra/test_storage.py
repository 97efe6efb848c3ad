"""External Storage with both drivers, for real: a folder, and the SDK's S3 driver against a real S3 API
on loopback (moto in server mode). A file goes in through `record_file` and comes back through
`fetch_file` checked against its SHA-256; with payload keys the store holds only ciphertext; a 20 MB file
makes the trip; a large workflow argument leaves history for the store; a store that cannot be used says
so in one line."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra.files import FileRefused, fetch_file, record_file
from infra.local import free_port
from infra.settings import Settings
from infra.storage import (
    PAYLOAD_THRESHOLD,
    StorageUnavailable,
    check_storage,
    close_storage,
    storage_problem,
)
from infra.temporal import data_converter
from schemas.annexes import MediaType
from tests.conftest import S3Server
from tests.infra import samples

pytestmark = pytest.mark.files

ROOT = Path(__file__).resolve().parents[2]
MARKER = "CONFIDENTIAL-POSITION-" + secrets.token_hex(6)
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BY = "vrojas@minrel.example"


def payload_keys() -> str:
    return f"t1:{base64.b64encode(os.urandom(32)).decode()}"


class Store:
    """One store under test: the settings every process would use, and everything it holds, as bytes."""

    def __init__(self, settings: Settings, holds: Callable[[], list[bytes]]) -> None:
        self.settings = settings
        self._holds = holds

    def converter(self, *, encrypted: bool = False, keys: str | None = None) -> DataConverter:
        """A process's converter on this store: sealing with `keys` (new ones if `encrypted`), or not."""
        keys = keys or (payload_keys() if encrypted else None)
        return data_converter(Settings(**{**self.settings.model_dump(exclude_unset=True), "payload_keys": keys}))

    async def objects(self) -> list[bytes]:
        return await asyncio.to_thread(self._holds)


def folder_store(root: Path) -> Store:
    return Store(
        Settings(storage="fs", storage_dir=root, payload_keys=None),
        lambda: [p.read_bytes() for p in root.rglob("*") if p.is_file()],
    )


def bucket_store(server: S3Server) -> Store:
    bucket = server.create_bucket(f"files-{uuid.uuid4().hex[:12]}")
    return Store(server.settings(bucket), lambda: bucket_objects(server, bucket))


def bucket_objects(server: S3Server, bucket: str, prefix: str = "") -> list[bytes]:
    s3 = server.client()
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed]


@pytest.fixture(params=["fs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "fs":
        return folder_store(tmp_path / "storage")
    return bucket_store(request.getfixturevalue("s3_server"))


async def test_a_file_goes_in_encrypted_and_comes_back_checked(store: Store) -> None:
    keys = payload_keys()
    converter = store.converter(keys=keys)
    data = samples.pdf(MARKER)
    record = await record_file(converter, "C:\\papers\\position-paper.pdf", data, attached_by=BY, attached_at=AT)
    assert (record.name, record.size, record.media_type) == ("position-paper.pdf", len(data), MediaType.PDF)
    assert len(record.reference) < 2_000  # a reference, not the file

    assert await fetch_file(converter, record) == data
    held = await store.objects()
    assert held, "nothing reached the store"
    assert not any(MARKER.encode() in blob or b"%PDF-" in blob for blob in held), "plaintext in the store"

    # Another process's converter (the gateway, a worker) with the same store and keys reads it.
    elsewhere = store.converter(keys=keys)
    assert await fetch_file(elsewhere, record) == data
    # Without the keys, what comes back from the store is sealed.
    with pytest.raises(KeyError, match="binary/encrypted"):
        await fetch_file(store.converter(), record)
    for used in (converter, elsewhere):
        await close_storage(used.external_storage)


async def test_without_payload_keys_the_store_holds_the_file_as_is(store: Store) -> None:
    """The control of the test above: the scan does find plaintext when there is some."""
    converter = store.converter(encrypted=False)
    await record_file(converter, "paper.pdf", samples.pdf(MARKER), attached_by=BY, attached_at=AT)
    assert any(MARKER.encode() in blob for blob in await store.objects())


async def test_fetch_refuses_bytes_that_do_not_match_the_recorded_sha256(store: Store) -> None:
    converter = store.converter(encrypted=True)
    paper = await record_file(converter, "paper.pdf", samples.pdf("one"), attached_by=BY, attached_at=AT)
    other = await record_file(converter, "list.xlsx", samples.xlsx(), attached_by=BY, attached_at=AT)
    swapped = paper.model_copy(update={"reference": other.reference})
    with pytest.raises(
        FileRefused, match=re.escape(f"paper.pdf: the stored bytes do not match its SHA-256 {paper.sha256}")
    ):
        await fetch_file(converter, swapped)
    unreadable = paper.model_copy(update={"reference": "not base64!"})
    with pytest.raises(FileRefused, match=re.escape("paper.pdf: its storage reference is unreadable")):
        await fetch_file(converter, unreadable)


async def test_a_20_mb_file_makes_the_round_trip(store: Store) -> None:
    converter = store.converter(encrypted=True)
    data = samples.pdf(MARKER) + os.urandom(20 * 1000 * 1000)
    record = await record_file(converter, "annex.pdf", data, attached_by=BY, attached_at=AT)
    assert record.size == len(data)
    assert await fetch_file(converter, record) == data
    held = await store.objects()
    assert max(len(blob) for blob in held) > len(data)  # the whole file, sealed, in one object
    assert not any(MARKER.encode() in blob for blob in held)


async def test_one_converter_serves_several_event_loops(tmp_path: Path, s3_server: S3Server) -> None:
    """The CLI builds its converter before `asyncio.run`, and tests run it on loops of their own: the S3
    client opens in whichever loop uses it, and each loop closes its own."""
    store = bucket_store(s3_server)
    converter = store.converter(encrypted=False)

    def in_another_loop() -> bytes:
        async def trip() -> bytes:
            record = await record_file(converter, "map.png", samples.png(), attached_by=BY, attached_at=AT)
            return await fetch_file(converter, record)

        return asyncio.run(trip())

    assert await asyncio.to_thread(in_another_loop) == samples.png()
    assert await asyncio.to_thread(in_another_loop) == samples.png()
    record = await record_file(converter, "site.jpg", samples.jpeg(), attached_by=BY, attached_at=AT)
    assert await fetch_file(converter, record) == samples.jpeg()
    await close_storage(converter.external_storage)


# --- a store that cannot be used ------------------------------------------------------------------


async def test_a_missing_bucket_is_one_line_naming_it(s3_server: S3Server) -> None:
    settings = s3_server.settings("no-such-bucket")
    converter = data_converter(settings)
    expected = f"S3 bucket 'no-such-bucket' at {s3_server.endpoint_url} does not exist (create it first)"
    with pytest.raises(StorageUnavailable) as checked:
        await check_storage(converter.external_storage)
    assert str(checked.value) == expected
    # Storing through the SDK's driver: its error wraps ours; `storage_problem` finds the line.
    with pytest.raises(Exception) as stored:
        await record_file(converter, "paper.pdf", samples.pdf(), attached_by=BY, attached_at=AT)
    assert storage_problem(stored.value) == expected
    await close_storage(converter.external_storage)


async def test_an_unreachable_endpoint_is_one_line_naming_it() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens
    settings = Settings(storage="s3", s3_bucket="consult-files", s3_endpoint_url=endpoint, payload_keys=None)
    converter = data_converter(settings)
    with pytest.raises(StorageUnavailable) as checked:
        await check_storage(converter.external_storage)
    assert str(checked.value) == f"S3 bucket 'consult-files' at {endpoint} is out of reach (EndpointConnectionError)"
    with pytest.raises(Exception) as stored:
        await converter.encode([b"x" * (PAYLOAD_THRESHOLD + 1)])
    assert storage_problem(stored.value) == str(checked.value)


def test_s3_without_a_bucket_is_refused_when_the_converter_is_built() -> None:
    with pytest.raises(StorageUnavailable, match=r"^CONSULT_STORAGE=s3 needs CONSULT_S3_BUCKET"):
        data_converter(Settings(storage="s3", s3_bucket=None))


async def test_a_folder_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    converter = data_converter(Settings(storage="fs", storage_dir=blocker / "storage", payload_keys=None))
    with pytest.raises(
        StorageUnavailable, match="^" + re.escape(f"the file store {blocker / 'storage'} cannot be written")
    ):
        await check_storage(converter.external_storage)


def test_the_default_folder_is_the_users_whatever_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`consult dev` in one folder and a CLI in another shell and folder keep files in the same place."""
    monkeypatch.delenv("CONSULT_STORAGE_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    roots = set()
    for folder in ("stack", "elsewhere"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        roots.add(Settings(storage="fs").storage_root)
    assert roots == {tmp_path / "data-home" / "consult" / "storage"}
    monkeypatch.setenv("CONSULT_STORAGE_DIR", "relative-store")
    assert Settings(storage="fs").storage_root == tmp_path / "elsewhere" / "relative-store"


async def test_a_stored_file_gone_from_the_store_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    converter = data_converter(Settings(storage="fs", storage_dir=tmp_path / "store", payload_keys=None))
    at = datetime.now(UTC)
    record = await record_file(converter, "paper.pdf", samples.pdf(), attached_by="a@b.example", attached_at=at)
    for stored in (tmp_path / "store").rglob("*"):
        if stored.is_file():
            stored.unlink()
    with pytest.raises(Exception) as raised:
        await fetch_file(converter, record)
    said = storage_problem(raised.value)
    assert said is not None and f"missing from the file store {tmp_path / 'store'}" in said


def test_settings_read_the_s3_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSULT_STORAGE", "s3")
    monkeypatch.setenv("CONSULT_S3_BUCKET", "consult-files")
    monkeypatch.setenv("CONSULT_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("CONSULT_S3_REGION", "eu-west-1")
    settings = Settings()
    assert (settings.storage, settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region) == (
        "s3",
        "consult-files",
        "http://minio:9000",
        "eu-west-1",
    )


def test_the_cli_never_imports_aioboto3_to_build_its_converter() -> None:
    """`consult --help`/`status` start-up is measured: the S3 store's libraries load on first use only."""
    code = (
        "import sys; from infra.settings import Settings; from infra.temporal import data_converter; "
        "data_converter(Settings(storage='s3', s3_bucket='b', s3_endpoint_url='http://127.0.0.1:1')); "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('aioboto3', 'aiobotocore', 'boto3', 'botocore')]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- large payloads leave history -------------------------------------------------------------------


@workflow.defn(name="StorageProbe", sandboxed=False)
class StorageProbe:
    """Takes a text and returns its length: what matters is where the text travels."""

    @workflow.run
    async def run(self, text: str) -> int:
        return len(text)


async def test_a_large_workflow_argument_is_in_the_store_and_only_its_reference_in_history(
    dev_env: WorkflowEnvironment, storage_settings: Settings, request: pytest.FixtureRequest
) -> None:
    """The run's own converter (fs, or S3 on moto with CONSULT_TEST_STORAGE=s3): a 400 KiB argument goes
    to the store, the history's started event carries a reference of a few hundred bytes."""
    text = secrets.token_hex(200 * 1024)
    workflow_id = f"storage-probe-{uuid.uuid4().hex[:8]}"
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"

    def held() -> list[bytes]:
        if storage_settings.storage == "s3":
            server: S3Server = request.getfixturevalue("s3_server")
            prefix = f"v0/ns/default/wt/StorageProbe/wi/{workflow_id}/"
            return bucket_objects(server, server.bucket, prefix)
        return [p.read_bytes() for p in storage_settings.storage_root.rglob("*") if p.is_file()]

    async with Worker(dev_env.client, task_queue=task_queue, workflows=[StorageProbe]):
        handle = await dev_env.client.start_workflow(StorageProbe.run, text, id=workflow_id, task_queue=task_queue)
        assert await handle.result() == len(text)
    history = await handle.fetch_history()
    [argument] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    assert argument.external_payloads and argument.external_payloads[0].size_bytes > len(text)
    assert argument.ByteSize() < 1_000
    assert sum(event.ByteSize() for event in history.events) < 10_000
    assert any(text.encode() in blob for blob in await asyncio.to_thread(held))

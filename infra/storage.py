"""Where External Storage keeps large payloads and attached files.

Temporal's External Storage (the claim check built into the data converter) hands a payload over
this threshold to a driver and records only the driver's reference in history. The payload codec
runs first, so with CONSULT_PAYLOAD_KEYS set the store only ever sees ciphertext.

- `fs` (default, for `consult dev` and tests): a folder, `CONSULT_STORAGE_DIR` (default
  `$XDG_DATA_HOME/consult/storage` or `~/.local/share/consult/storage`), shared by every process
  of the user on the machine, whatever folder it runs in.
- `s3`: an S3-compatible bucket (`CONSULT_S3_BUCKET`, `CONSULT_S3_ENDPOINT_URL`, `CONSULT_S3_REGION`),
  through the SDK's S3 driver and an aioboto3 client of our own, `S3Client`: opened on first use
  inside the running event loop (the converter is built before any loop runs), one per loop, and
  aioboto3 is imported only then (the CLI's start-up never loads it). Credentials come only from
  the standard AWS chain and are never logged.

A store that cannot be used (a missing bucket, an endpoint out of reach, no credentials) raises
`StorageUnavailable`, one line naming the bucket and the endpoint; the SDK's driver wraps it, so
edges show `storage_problem(error)` instead of a traceback, and `check_storage` tries the store
once at a process's start.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

from temporalio.api.common.v1 import Payload
from temporalio.contrib.aws.s3driver import S3StorageDriver, S3StorageDriverClient
from temporalio.converter import (
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

# Payloads from this size up leave history for the store (Temporal's own default).
PAYLOAD_THRESHOLD = 256 * 1024

_T = TypeVar("_T")


class StorageUnavailable(RuntimeError):
    """The store cannot be used: one line naming the store and what is wrong (never a credential)."""


def storage_problem(error: BaseException) -> str | None:
    """The one-line `StorageUnavailable` message behind an error (the SDK's driver and the SDK wrap it), or None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StorageUnavailable):
            return str(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class FileSystemDriver(StorageDriver):
    """Content-addressed files under one folder: `<root>/<first 2 hex>/<sha256 of the stored bytes>`.

    A payload stored twice lands on the same file (written to a temporary name, then renamed, so a
    reader never sees half a file)."""

    def __init__(self, root: Path, name: str = "fs") -> None:
        self._root = root
        self._name = name

    def name(self) -> str:
        return self._name

    def type(self) -> str:
        return "consult.fs"

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a stored payload's key: {key[:80]!r}")
        return self._root / key[:2] / key

    def _write(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{key}.{os.getpid()}.{id(data)}")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        return key

    async def store(self, context: StorageDriverStoreContext, payloads: Sequence[Payload]) -> list[StorageDriverClaim]:
        claims = []
        for payload in payloads:
            try:
                key = await asyncio.to_thread(self._write, payload.SerializeToString())
            except OSError as error:  # a full disk, a folder that cannot be written
                raise StorageUnavailable(
                    f"the file store {self._root} cannot be written ({error.strerror or error})"
                ) from None
            claims.append(StorageDriverClaim(claim_data={"key": key}))
        return claims

    async def check(self) -> None:
        """The folder can be written (StorageUnavailable otherwise)."""
        try:
            await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)
            if not os.access(self._root, os.W_OK | os.X_OK):
                raise PermissionError(self._root)
        except OSError as error:
            raise StorageUnavailable(
                f"the file store {self._root} cannot be written ({error.strerror or error})"
            ) from None

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        payloads = []
        for claim in claims:
            path = self._path(claim.claim_data.get("key", ""))
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                raise StorageUnavailable(
                    f"stored payload {path.name} is missing from the file store {self._root}"
                    " (is CONSULT_STORAGE_DIR the folder the worker and gateway use?)"
                ) from None
            except OSError as error:
                raise StorageUnavailable(
                    f"the file store {self._root} cannot be read ({error.strerror or error})"
                ) from None
            payloads.append(Payload.FromString(data))
        return payloads


def file_system_storage(root: Path) -> ExternalStorage:
    return ExternalStorage(drivers=[FileSystemDriver(root)], payload_size_threshold=PAYLOAD_THRESHOLD)


class S3Client(S3StorageDriverClient):
    """The S3 driver's client over aioboto3, opened lazily: the first call in an event loop opens
    `aioboto3.Session().client("s3", ...)` there (aioboto3 is imported then), later calls in that loop
    reuse it; a loop of its own (a CLI's `asyncio.run`) gets a client of its own. `aclose` closes the
    current loop's client; a loop that ends closes its client itself.

    botocore's errors for a missing bucket, an endpoint out of reach or missing credentials become
    `StorageUnavailable`, one line naming the bucket and the endpoint."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGenerator[None]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def where(self) -> str:
        """The store, in words: the bucket and where it is (never a credential)."""
        at = self.endpoint_url or "AWS S3" + (f" ({self.region})" if self.region else "")
        return f"S3 bucket {self.bucket!r} at {at}"

    def describe(self) -> Mapping[str, str]:
        return {"endpoint": self.endpoint_url or "aws", "region": self.region or "default"}

    async def _open(self, loop: asyncio.AbstractEventLoop) -> Any:
        import aioboto3  # here, not at import: the CLI's start-up never pays for it
        from aiobotocore.config import AioConfig

        options: dict[str, Any] = {"connect_timeout": 5, "read_timeout": 60, "retries": {"mode": "standard"}}
        if self.endpoint_url:  # S3-compatible stores (MinIO, Ceph, moto) address buckets by path
            options["s3"] = {"addressing_style": "path"}
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(
                aioboto3.Session().client(
                    "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=AioConfig(**options)
                )
            )
        except ValueError as error:  # an endpoint that is not a URL
            raise StorageUnavailable(f"{self.where}: the endpoint is not usable ({error})") from None

        async def held() -> AsyncGenerator[None]:
            try:
                yield
            finally:
                await stack.aclose()

        # An async generator the loop finalizes when it shuts down (`asyncio.run` ends with
        # `shutdown_asyncgens`): the client is closed with its loop, not left to the garbage collector.
        keeper = held()
        await keeper.__anext__()
        self._keepers[loop] = keeper
        return client

    async def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        opening = self._clients.get(loop)
        if opening is None:
            opening = self._clients[loop] = loop.create_task(self._open(loop))
        try:
            return await asyncio.shield(opening)
        except BaseException:
            if opening.done() and (opening.cancelled() or opening.exception() is not None):
                self._clients.pop(loop, None)  # the next call tries again
            raise

    async def aclose(self) -> None:
        """Closes this event loop's client, if one was opened."""
        loop = asyncio.get_running_loop()
        self._clients.pop(loop, None)
        keeper = self._keepers.pop(loop, None)
        if keeper is not None:
            await keeper.aclose()

    async def _call(self, doing: str, call: Callable[[Any], Awaitable[_T]]) -> _T:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, NoCredentialsError

        try:
            return await call(await self._client())
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket":
                raise StorageUnavailable(f"{self.where} does not exist (create it first)") from None
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "ExpiredToken"):
                raise StorageUnavailable(
                    f"{self.where} refused to {doing} ({code}): check the AWS credentials and the bucket's policy"
                ) from None
            raise
        except NoCredentialsError:
            raise StorageUnavailable(
                f"{self.where}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            ) from None
        except ConnectionError as error:
            raise StorageUnavailable(f"{self.where} is out of reach ({type(error).__name__})") from None
        except BotoCoreError as error:
            raise StorageUnavailable(f"{self.where}: cannot {doing} ({error})") from None

    async def check(self) -> None:
        """The bucket exists and these credentials reach it (StorageUnavailable otherwise)."""
        from botocore.exceptions import ClientError

        try:
            await self._call("list the bucket", lambda s3: s3.head_bucket(Bucket=self.bucket))
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageUnavailable(f"{self.where} does not exist (create it first)") from None
            raise StorageUnavailable(f"{self.where}: cannot list the bucket ({code})") from None

    # The objects themselves go through the SDK's own aioboto3 adapter (multipart uploads for large
    # files); this class only opens the client per loop and words the failures.

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        return await self._call("read", lambda s3: _sdk_adapter(s3).object_exists(bucket=bucket, key=key))

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        await self._call("write", lambda s3: _sdk_adapter(s3).put_object(bucket=bucket, key=key, data=data))

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        return await self._call("read", lambda s3: _sdk_adapter(s3).get_object(bucket=bucket, key=key))


def _sdk_adapter(s3: Any) -> S3StorageDriverClient:
    from temporalio.contrib.aws.s3driver.aioboto3 import new_aioboto3_client  # imports the aioboto3 stubs

    return new_aioboto3_client(s3)


class S3Driver(S3StorageDriver):
    """The SDK's S3 driver (its name, keys and claims), over an `S3Client` it keeps at hand."""

    def __init__(self, client: S3Client) -> None:
        super().__init__(client=client, bucket=client.bucket)
        self.client = client


def s3_storage(bucket: str, *, endpoint_url: str | None = None, region: str | None = None) -> ExternalStorage:
    driver = S3Driver(S3Client(bucket, endpoint_url=endpoint_url, region=region))
    return ExternalStorage(drivers=[driver], payload_size_threshold=PAYLOAD_THRESHOLD)


async def close_storage(storage: ExternalStorage | None) -> None:
    """Closes what the store holds open in this event loop (an S3 client); a no-op for folders."""
    for driver in storage.drivers if storage is not None else ():
        if isinstance(driver, S3Driver):
            await driver.client.aclose()


async def check_storage(storage: ExternalStorage | None) -> None:
    """Tries the store once (a process's start): StorageUnavailable, one line, if it cannot be used."""
    if storage is None:
        return
    for driver in storage.drivers:
        if isinstance(driver, FileSystemDriver):
            await driver.check()
        elif isinstance(driver, S3Driver):
            await driver.client.check()

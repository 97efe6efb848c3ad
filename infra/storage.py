"""Where External Storage keeps large payloads and attached files.

Temporal's External Storage (the claim check built into the data converter) hands a payload over
this threshold to a driver and records only the driver's reference in history. The payload codec
runs first, so with CONSULT_PAYLOAD_KEYS set the store only ever sees ciphertext.

- `fs` (default, for `consult dev` and tests): a folder, `CONSULT_STORAGE_DIR` (default
  `<data dir>/storage`), shared by every process on the machine.
- `s3`: an S3-compatible bucket (see `S3Settings`), through the SDK's S3 driver.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

# Payloads from this size up leave history for the store (Temporal's own default).
PAYLOAD_THRESHOLD = 256 * 1024


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
            key = await asyncio.to_thread(self._write, payload.SerializeToString())
            claims.append(StorageDriverClaim(claim_data={"key": key}))
        return claims

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        payloads = []
        for claim in claims:
            path = self._path(claim.claim_data.get("key", ""))
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                raise FileNotFoundError(f"stored payload {path.name} is missing from {self._root}") from None
            payloads.append(Payload.FromString(data))
        return payloads


def file_system_storage(root: Path) -> ExternalStorage:
    return ExternalStorage(drivers=[FileSystemDriver(root)], payload_size_threshold=PAYLOAD_THRESHOLD)

"""Encrypted payloads: every workflow and activity payload sealed with AES-GCM before it reaches Temporal.

Keys come from `CONSULT_PAYLOAD_KEYS` as `kid:base64key` pairs (32-byte keys):
the first encrypts, every listed key decrypts, so keys rotate by putting a new
one first and dropping an old one only when no history still needs it. Each
payload names its key id in its metadata. Search attributes are not payloads:
they stay readable, and hold no negotiation content.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


def parse_payload_keys(text: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kid, sep, encoded = part.partition(":")
        if not sep or not kid:
            raise ValueError("each payload key is written kid:base64key, separated by commas")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError(f"payload key {kid!r} is not base64") from None
        if len(key) != 32:
            raise ValueError(f"payload key {kid!r} must be 32 bytes (AES-256), not {len(key)}")
        if kid in keys:
            raise ValueError(f"payload key id {kid!r} appears twice")
        keys[kid] = key
    if not keys:
        raise ValueError("no payload keys given")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self._kid = next(iter(keys))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        sealed = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = nonce + self._keys[self._kid].encrypt(nonce, payload.SerializeToString(), None)
            sealed.append(Payload(metadata={"encoding": ENCODING, KEY_ID: self._kid.encode()}, data=data))
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                opened.append(payload)  # written before encryption was turned on
                continue
            kid = payload.metadata.get(KEY_ID, b"").decode()
            cipher = self._keys.get(kid)
            if cipher is None:
                raise ValueError(
                    f"payload encrypted with key {kid!r}, which is no longer listed in CONSULT_PAYLOAD_KEYS"
                )
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            opened.append(Payload.FromString(cipher.decrypt(nonce, sealed, None)))
        return opened

"""The codec endpoint: decrypts (and encrypts) payloads for the Temporal UI, for operators only.

Included by `create_app` only when it is given a codec and a bearer token; CORS lets
the UI's origin call it (gateway/app.py).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from gateway.deps import Config

router = APIRouter(prefix="/codec", tags=["codec"])


async def get_codec(request: Request, config: Config) -> PayloadCodec | None:
    """The codec, for a caller with the bearer token; None for any other."""
    if config.codec is None or not config.codec_token:
        return None
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {config.codec_token}".encode()):
        return None
    return config.codec


AuthorisedCodec = Annotated[PayloadCodec | None, Depends(get_codec)]


async def _transform(request: Request, codec: PayloadCodec | None, direction: Literal["encode", "decode"]) -> Response:
    if codec is None:
        return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
        method = codec.encode if direction == "encode" else codec.decode
        result = Payloads(payloads=await method(list(payloads.payloads)))
    except Exception:  # malformed input or a key no longer listed: say so, never a 500 with details
        return JSONResponse({"error": f"the payloads could not be {direction}d"}, status_code=400)
    return Response(json_format.MessageToJson(result), media_type="application/json")


@router.post("/encode")
async def encode(request: Request, codec: AuthorisedCodec) -> Response:
    return await _transform(request, codec, "encode")


@router.post("/decode")
async def decode(request: Request, codec: AuthorisedCodec) -> Response:
    return await _transform(request, codec, "decode")

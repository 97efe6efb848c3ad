"""Signing and verifying the tokens in email links (PyJWT, HS256).

Keys come from `CONSULT_LINK_KEYS` as `kid:secret` pairs separated by commas;
the first signs, every listed key verifies, so keys rotate by putting a new one
first and removing an old one once its links have expired. Used by the mail
activity (to sign) and the gateway (to verify): the keys never enter workflow
history.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
from pydantic import SecretStr

from schemas.links import LinkClaims, LinkSpec

ALGORITHM = "HS256"
AUDIENCE = "consult-link"
MIN_SECRET_BYTES = 32
# Every token this module signs carries these; one without them was not made here.
REQUIRED_CLAIMS = ["aud", "sub", "exp", "pur", "wf", "cid", "rnd"]


class LinkError(Exception):
    """A token that cannot be trusted; `expired` tells the two failures a person must tell apart."""

    def __init__(self, message: str, *, expired: bool = False, claims: LinkClaims | None = None) -> None:
        super().__init__(message)
        self.expired = expired
        self.claims = claims


def parse_keys(text: str) -> dict[str, SecretStr]:
    """`kid:secret,kid:secret` (first one signs), refusing short or repeated keys."""
    keys: dict[str, SecretStr] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kid, sep, secret = part.partition(":")
        if not sep or not kid or not secret:
            raise ValueError("each link key is written kid:secret, separated by commas")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"link key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes")
        if kid in keys:
            raise ValueError(f"link key id {kid!r} appears twice")
        keys[kid] = SecretStr(secret)
    if not keys:
        raise ValueError("no link keys given")
    return keys


class LinkSigner:
    def __init__(self, keys: dict[str, SecretStr]) -> None:
        if not keys:
            raise ValueError("no link keys given")
        self._keys = keys
        self._signing_kid = next(iter(keys))

    def sign(self, spec: LinkSpec, recipient: str) -> str:
        claims = {
            "aud": AUDIENCE,
            "sub": recipient,
            "exp": int(spec.expires_at.timestamp()),
            "pur": spec.purpose.value,
            "wf": spec.workflow_id,
            "cid": spec.consultation_id,
            "rnd": spec.round_number,
            "ver": spec.version,
            "sha": spec.sha256,
        }
        secret = self._keys[self._signing_kid].get_secret_value()
        return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": self._signing_kid})

    def verify(self, token: str) -> LinkClaims:
        """The token's claims, or LinkError: never another exception, whatever a signed token holds
        (a key that signs is not trusted to sign sensible claims: an `exp` of 1e30, a claim left out)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _damaged() from None
        key = self._keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != ALGORITHM:
            raise _damaged()
        expired = False
        try:
            try:
                raw = jwt.decode(
                    token,
                    key.get_secret_value(),
                    algorithms=[ALGORITHM],
                    audience=AUDIENCE,
                    options={"require": REQUIRED_CLAIMS},
                )
            except jwt.ExpiredSignatureError:
                expired = True  # read again to say when it expired and whom to ask
                raw = jwt.decode(
                    token,
                    key.get_secret_value(),
                    algorithms=[ALGORITHM],
                    audience=AUDIENCE,
                    options={"require": REQUIRED_CLAIMS, "verify_exp": False},
                )
            claims = _claims(raw)
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError, OSError):
            raise _damaged() from None
        if expired:
            raise LinkError("this link has expired", expired=True, claims=claims)
        return claims


def _damaged() -> LinkError:
    return LinkError("this link is damaged or was not issued by us")


def _claims(raw: dict[str, object]) -> LinkClaims:
    return LinkClaims.model_validate(
        {
            "purpose": raw["pur"],
            "workflow_id": raw["wf"],
            "consultation_id": raw["cid"],
            "round_number": raw["rnd"],
            "version": raw.get("ver"),
            "sha256": raw.get("sha"),
            "recipient": raw["sub"],
            # OverflowError or OSError past year 9999 (an `exp` of 1e30): the caller says "damaged".
            "expires_at": datetime.fromtimestamp(float(str(raw["exp"])), UTC),
        }
    )

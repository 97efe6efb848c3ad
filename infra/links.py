"""Signing and verifying the tokens in email links (PyJWT, HS256).

Keys come from `CONSULT_LINK_KEYS` as `kid:secret` pairs separated by commas;
the first signs, every listed key verifies, so keys rotate by putting a new one
first and removing an old one once its links have expired. Used by the mail
activity (to sign) and the gateway (to verify): the keys never enter workflow
history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from pydantic import SecretStr

from schemas.declaration import Locale
from schemas.links import FEED_LIFETIME, FeedClaims, FileClaims, FileLinkSpec, LinkClaims, LinkPurpose, LinkSpec

ALGORITHM = "HS256"
AUDIENCE = "consult-link"
# A feed token is for another audience: neither kind of token opens the other's pages.
FEED_AUDIENCE = "consult-calendar-feed"
MIN_SECRET_BYTES = 32
# Every token this module signs carries these; one without them was not made here.
REQUIRED_CLAIMS = ["aud", "sub", "exp", "pur", "wf", "cid", "rnd"]
FEED_CLAIMS = ["aud", "sub", "exp", "pur", "fv"]
# A file link is for a third audience: it downloads one file and opens no page (and no page token downloads).
FILE_AUDIENCE = "consult-file"
FILE_CLAIMS = ["aud", "sub", "exp", "wf", "cid", "fsh"]
# Without CONSULT_LINK_KEYS, `consult dev` keeps its key in this file of its data directory.
DEV_KEYS_FILE = "link-keys"


class LinkError(Exception):
    """A token that cannot be trusted; `expired` tells the two failures a person must tell apart."""

    def __init__(
        self,
        message: str,
        *,
        expired: bool = False,
        claims: LinkClaims | None = None,
        file: FileClaims | None = None,
    ) -> None:
        super().__init__(message)
        self.expired = expired
        self.claims = claims
        self.file = file  # an expired file link's claims


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


def parse_revoked(text: str) -> dict[str, int]:
    """`email:N,email:N`: every calendar feed URL of that operator numbered N or lower is refused."""
    revoked: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        email, sep, number = part.rpartition(":")
        if not sep or "@" not in email or not (number.isascii() and number.isdecimal()) or len(number) > 9:
            raise ValueError(f"CONSULT_CALENDAR_REVOKED: {part!r} is not email:N (N the last revoked URL number)")
        key = email.strip().lower()
        revoked[key] = max(revoked.get(key, 0), int(number))
    return revoked


class LinkSigner:
    def __init__(self, keys: dict[str, SecretStr]) -> None:
        if not keys:
            raise ValueError("no link keys given")
        self._keys = keys
        self._signing_kid = next(iter(keys))

    def sign(
        self, spec: LinkSpec, recipient: str, *, locale: Locale | None = None, utc_offset_minutes: int | None = None
    ) -> str:
        """A page link for one recipient; `locale` and `utc_offset_minutes` (how they read it: their
        language and the consultation's zone) let the gateway answer a decision without reading the page."""
        claims: dict[str, object] = {
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
        if locale is not None and utc_offset_minutes is not None:
            claims |= {"loc": locale.value, "utc": utc_offset_minutes}
        return self._encode(claims)

    def sign_feed(self, operator: str, version: int, now: datetime) -> str:
        """An operator's calendar feed token: their email, the URL's number, and a year to live."""
        claims = {
            "aud": FEED_AUDIENCE,
            "sub": operator.lower(),
            "exp": int((now + FEED_LIFETIME).timestamp()),
            "pur": LinkPurpose.CALENDAR_FEED.value,
            "fv": version,
        }
        return self._encode(claims)

    def sign_file(self, spec: FileLinkSpec, recipient: str) -> str:
        """A link to one file for one recipient: the workflow, the file's SHA-256 and where it is."""
        where = spec.where
        claims = {
            "aud": FILE_AUDIENCE,
            "sub": recipient,
            "exp": int(spec.expires_at.timestamp()),
            "wf": spec.workflow_id,
            "cid": spec.consultation_id,
            "fsh": spec.sha256,
            "ver": where.version,
            "pty": where.party,
            "pil": where.pillar.value if where.pillar else None,
            "rev": where.revision,
        }
        return self._encode({k: v for k, v in claims.items() if v is not None})

    def verify_file(self, token: str) -> FileClaims:
        """A file token's claims, or LinkError (never another exception), like `verify`."""
        raw, expired = self._decode(token, FILE_AUDIENCE, FILE_CLAIMS)
        try:
            claims = FileClaims.model_validate(
                {
                    "workflow_id": raw["wf"],
                    "consultation_id": raw["cid"],
                    "sha256": raw["fsh"],
                    "where": {
                        "version": raw.get("ver"),
                        "party": raw.get("pty"),
                        "pillar": raw.get("pil"),
                        "revision": raw.get("rev"),
                    },
                    "recipient": raw["sub"],
                    "expires_at": _expiry(raw),
                }
            )
        except (KeyError, ValueError, TypeError, OverflowError, OSError):
            raise _damaged() from None
        if expired:
            raise LinkError("this file link has expired", expired=True, file=claims)
        return claims

    def _encode(self, claims: dict[str, object]) -> str:
        secret = self._keys[self._signing_kid].get_secret_value()
        return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": self._signing_kid})

    def verify_feed(self, token: str) -> FeedClaims:
        """A feed token's claims, or LinkError (never another exception), like `verify`."""
        raw, expired = self._decode(token, FEED_AUDIENCE, FEED_CLAIMS)
        try:
            if raw["pur"] != LinkPurpose.CALENDAR_FEED.value:
                raise ValueError("not a feed token")
            claims = FeedClaims(
                operator=str(raw["sub"]),
                version=_integer(raw["fv"]),
                expires_at=_expiry(raw),
            )
        except (KeyError, ValueError, TypeError, OverflowError, OSError):
            raise _damaged() from None
        if expired:
            raise LinkError("this calendar link has expired", expired=True)
        return claims

    def _decode(self, token: str, audience: str, required: list[str]) -> tuple[dict[str, Any], bool]:
        """The claims of a token one of our keys signed for `audience`, and whether it has expired
        (read again without the expiry check, to say when it expired and whom to ask)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _damaged() from None
        key = self._keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != ALGORITHM:
            raise _damaged()
        secret = key.get_secret_value()
        try:
            try:
                return _decoded(token, secret, audience, required, verify_exp=True), False
            except jwt.ExpiredSignatureError:
                return _decoded(token, secret, audience, required, verify_exp=False), True
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
            raise _damaged() from None

    def verify(self, token: str) -> LinkClaims:
        """The token's claims, or LinkError: never another exception, whatever a signed token holds
        (a key that signs is not trusted to sign sensible claims: an `exp` of 1e30, a claim left out)."""
        raw, expired = self._decode(token, AUDIENCE, REQUIRED_CLAIMS)
        try:
            claims = _claims(raw)
        except (KeyError, ValueError, TypeError, OverflowError, OSError):
            raise _damaged() from None
        if expired:
            raise LinkError("this link has expired", expired=True, claims=claims)
        return claims


def _decoded(token: str, secret: str, audience: str, required: list[str], *, verify_exp: bool) -> dict[str, Any]:
    options: Any = {"require": required, "verify_exp": verify_exp}
    return jwt.decode(token, secret, algorithms=[ALGORITHM], audience=audience, options=options)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise ValueError("not a URL number")
    return value


def _damaged() -> LinkError:
    return LinkError("this link is damaged or was not issued by us")


def _claims(raw: dict[str, Any]) -> LinkClaims:
    return LinkClaims.model_validate(
        {
            "purpose": raw["pur"],
            "workflow_id": raw["wf"],
            "consultation_id": raw["cid"],
            "round_number": raw["rnd"],
            "version": raw.get("ver"),
            "sha256": raw.get("sha"),
            "recipient": raw["sub"],
            "expires_at": _expiry(raw),
            "locale": raw.get("loc"),
            "utc_offset_minutes": raw.get("utc"),
        }
    )


def _expiry(raw: dict[str, Any]) -> datetime:
    # OverflowError or OSError past year 9999 (an `exp` of 1e30): the caller says "damaged".
    return datetime.fromtimestamp(float(str(raw["exp"])), UTC)

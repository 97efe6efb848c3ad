"""Link tokens: bound to one recipient and request, expiring, rotating keys, never trusted when altered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.links import LinkError, LinkSigner, parse_keys, parse_revoked
from schemas.declaration import Locale
from schemas.links import LinkPurpose, LinkSpec

OLD = "old:" + "o" * 40
NEW = "new:" + "n" * 40
SPEC = LinkSpec(
    purpose=LinkPurpose.MINUTES_APPROVAL,
    workflow_id="consultation-x-round-1",
    consultation_id="x",
    round_number=1,
    version=2,
    sha256="ab" * 32,
    expires_at=datetime.now(UTC) + timedelta(days=5),
)


def test_a_token_carries_its_request_and_recipient() -> None:
    signer = LinkSigner(parse_keys(NEW))
    claims = signer.verify(signer.sign(SPEC, "ana@minrel.example"))
    assert claims.recipient == "ana@minrel.example"
    assert (claims.workflow_id, claims.version, claims.sha256) == (SPEC.workflow_id, 2, SPEC.sha256)
    assert abs(claims.expires_at - SPEC.expires_at) < timedelta(seconds=1)


def test_a_token_can_carry_how_its_reader_reads_and_one_signed_before_carries_nothing() -> None:
    signer = LinkSigner(parse_keys(NEW))
    claims = signer.verify(signer.sign(SPEC, "ana@minrel.example", locale=Locale.ES, utc_offset_minutes=-180))
    assert (claims.locale, claims.utc_offset_minutes) == (Locale.ES, -180)
    # The links already in people's inboxes were signed without them: they verify as before.
    earlier = signer.verify(signer.sign(SPEC, "ana@minrel.example"))
    assert (earlier.locale, earlier.utc_offset_minutes) == (None, None)


def _signed_with(extra: dict[str, object]) -> str:
    """A token our key signed, with `extra` claims written in by hand."""
    import jwt

    signer = LinkSigner(parse_keys(NEW))
    claims = jwt.decode(signer.sign(SPEC, "a@b.example"), options={"verify_signature": False})
    return jwt.encode(claims | extra, "n" * 40, algorithm="HS256", headers={"kid": "new"})


@pytest.mark.parametrize(
    "extra",
    [
        {"loc": "xx", "utc": 0},
        {"loc": "es", "utc": 24 * 60},
        {"loc": "es", "utc": 1.5},
        {"loc": "es", "utc": True},
        {"loc": "es", "utc": "-180"},
    ],
)
def test_a_signed_token_with_a_reading_that_makes_no_sense_is_refused(extra: dict[str, object]) -> None:
    # A key that signs is not trusted to sign sensible claims (see LinkSigner.verify).
    signer = LinkSigner(parse_keys(NEW))
    assert signer.verify(_signed_with({"loc": "es", "utc": -180})).utc_offset_minutes == -180  # by hand, sensible
    with pytest.raises(LinkError, match="damaged"):
        signer.verify(_signed_with(extra))


def test_keys_rotate_old_links_verify_until_their_key_is_removed() -> None:
    before = LinkSigner(parse_keys(OLD)).sign(SPEC, "ana@minrel.example")
    rotated = LinkSigner(parse_keys(f"{NEW},{OLD}"))
    assert rotated.verify(before).recipient == "ana@minrel.example"
    assert rotated.verify(rotated.sign(SPEC, "b@x.example")).recipient == "b@x.example"
    with pytest.raises(LinkError, match="not issued by us"):
        LinkSigner(parse_keys(NEW)).verify(before)


def test_an_expired_token_says_so_and_still_tells_whom_it_was_for() -> None:
    signer = LinkSigner(parse_keys(NEW))
    stale = signer.sign(SPEC.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(hours=1)}), "a@b.example")
    with pytest.raises(LinkError) as error:
        signer.verify(stale)
    assert error.value.expired and error.value.claims is not None and error.value.claims.recipient == "a@b.example"


def test_changing_the_recipient_breaks_the_signature() -> None:
    import base64
    import json

    signer = LinkSigner(parse_keys(NEW))
    header, payload, signature = signer.sign(SPEC, "ana@minrel.example").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "intruder@elsewhere.example"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(LinkError, match="not issued by us"):
        signer.verify(f"{header}.{forged}.{signature}")


def test_bad_key_settings_are_refused() -> None:
    for text, message in [
        ("nocolon", "kid:secret"),
        ("k:short", "shorter than 32"),
        (f"{NEW},{NEW}", "twice"),
        ("", "no link keys"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_keys(text)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    signer = LinkSigner(parse_keys(NEW))
    token = signer.sign(SPEC, "ana@minrel.example")
    index = position % len(token)
    mutated = token[:index] + replacement + token[index + 1 :]
    if mutated == token:
        return
    try:
        claims = signer.verify(mutated)
    except LinkError:
        return
    # Base64url has spare bits in its last character: a change there can decode to the same bytes.
    assert claims == signer.verify(token)


def test_a_calendar_feed_token_is_its_own_kind_and_rotation_revokes_it() -> None:
    signer = LinkSigner(parse_keys(NEW))
    now = datetime.now(UTC)
    feed = signer.sign_feed("Ops@Minrel.example", 3, now)
    claims = signer.verify_feed(feed)
    assert (claims.operator, claims.version) == ("ops@minrel.example", 3)
    assert claims.expires_at - now > timedelta(days=365)
    # Neither kind of token opens the other's pages.
    with pytest.raises(LinkError, match="not issued by us"):
        signer.verify(feed)
    with pytest.raises(LinkError, match="not issued by us"):
        signer.verify_feed(signer.sign(SPEC, "ana@minrel.example"))
    with pytest.raises(LinkError) as expired:
        signer.verify_feed(signer.sign_feed("ops@minrel.example", 1, now - timedelta(days=400)))
    assert expired.value.expired
    # Rotating the keys (the old one removed) revokes every feed URL.
    with pytest.raises(LinkError, match="not issued by us"):
        LinkSigner(parse_keys(OLD)).verify_feed(feed)


def test_revoked_feed_urls_are_read_per_operator() -> None:
    assert parse_revoked("") == {}
    assert parse_revoked(" Ops@minrel.example:2, b@x.example:1, ops@minrel.example:1") == {
        "ops@minrel.example": 2,
        "b@x.example": 1,
    }
    for bad in ("ops@minrel.example", "nobody:1", "ops@minrel.example:-1", "ops@minrel.example:²"):
        with pytest.raises(ValueError, match="CONSULT_CALENDAR_REVOKED"):
            parse_revoked(bad)

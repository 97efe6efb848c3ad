"""What a link in an email lets its recipient do. The workflow decides the spec; an activity signs it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import ConfigDict, Field

from schemas.base import Model
from schemas.declaration import Locale, Pillar

# A link stays usable a little after its request's deadline: a late decision is
# still recorded (and shown as late) rather than bounced.
LINK_GRACE = timedelta(days=3)


class LinkPurpose(StrEnum):
    MINUTES_APPROVAL = "minutes_approval"
    PILLAR_INPUT = "pillar_input"
    AGREEMENT_APPROVAL = "agreement_approval"
    # Not an email link: an operator's calendar subscription (`consult calendar-url`), see FeedClaims.
    CALENDAR_FEED = "calendar_feed"


class LinkSpec(Model):
    """Carried by a notice (so it is in history): no secret, no recipient; the token adds both."""

    model_config = ConfigDict(frozen=True)

    purpose: LinkPurpose
    workflow_id: str  # the workflow the page reads and updates (the round)
    consultation_id: str
    round_number: int
    version: int | None = None
    sha256: str | None = None
    expires_at: datetime


class LinkClaims(Model):
    """A verified token: the spec, bound to one recipient."""

    model_config = ConfigDict(frozen=True)

    purpose: LinkPurpose
    workflow_id: str
    consultation_id: str
    round_number: int
    version: int | None
    sha256: str | None
    recipient: str
    expires_at: datetime
    # How the recipient reads their pages, signed into the link by the notice that carries it, so a
    # decision's answer is written without asking the workflow; None in a link signed before.
    locale: Locale | None = None
    utc_offset_minutes: int | None = Field(default=None, gt=-24 * 60, lt=24 * 60, strict=True)


# An operator's calendar feed URL stays valid this long: a calendar app polls it for months,
# and `consult calendar-url` mints a new one (revocation does not wait for it: see FeedClaims).
FEED_LIFETIME = timedelta(days=366)


class FeedClaims(Model):
    """A verified calendar feed token: whose feed it is, and which of their URLs (`version`).

    Revocable without a database: the gateway refuses a version at or below the one its
    CONSULT_CALENDAR_REVOKED setting names for the operator; rotating the link keys revokes every URL.
    """

    model_config = ConfigDict(frozen=True)

    operator: str
    version: int
    expires_at: datetime


# A file link (an annex, an input's attachment) stays usable this long after the notice or page that
# gave it, or until its request's link expires if that is later: a reader goes back to an annex for weeks.
FILE_LINK_LIFETIME = timedelta(days=90)


class FileLocation(Model):
    """Where a file is in the workflow that holds it: the annexes of a minutes or draft `version`, or
    the attachments of one revision of a party's input on a pillar."""

    model_config = ConfigDict(frozen=True)

    version: int | None = None
    party: str | None = None
    pillar: Pillar | None = None
    revision: int | None = None


class FileLinkSpec(Model):
    """One file a reader was sent (by its SHA-256, and where it is); the token binds it to the reader."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str  # the round (minutes, inputs) or the consultation (drafts)
    consultation_id: str
    sha256: str
    where: FileLocation
    expires_at: datetime


class FileClaims(FileLinkSpec):
    """A verified file link: the spec, bound to one recipient."""

    recipient: str

"""The declaration file: the public contract operators write to start a consultation.

Field names and defaults here are documented in README ("Declaration file");
change them only with a migration path, running workflows carry this model.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas import limits
from schemas.base import Model
from schemas.working_days import Count

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
# Deliberately simple: it catches typos (missing @, spaces) without pretending to
# implement RFC 5322; the SMTP server is the final judge of deliverability.
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class Pillar(StrEnum):
    SUPPLY_CHAIN = "supply_chain"
    STRATEGIC_PROJECTS = "strategic_projects"
    RECYCLING = "recycling"
    FINANCING = "financing"


class Role(StrEnum):
    TECHNICAL_LEAD = "technical_lead"
    APPROVER = "approver"


class Locale(StrEnum):
    ES = "es"
    EN = "en"
    FR = "fr"


class ApprovalRule(StrEnum):
    ANY = "any"
    ALL = "all"


def _email(value: str, info: ValidationInfo) -> str:
    value = value.strip()
    if limits.sent_now(info):
        limits.check_text(value, limit=limits.MAX_EMAIL, multiline=False)
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


# Every address a person gives (declaration, requests) arrives stripped and lower-cased,
# so comparisons anywhere downstream are plain `==`.
Email = Annotated[str, AfterValidator(_email)]


# Single-line text a person writes in a declaration: no line breaks (they end up in email headers).
Name = Annotated[str, Field(min_length=1), limits.one_line(limits.MAX_NAME)]
Title = Annotated[str, Field(min_length=1), limits.one_line(limits.MAX_TITLE)]


class _Strict(Model):
    # A typo in a field name ("aproval") must be reported, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Counterpart(_Strict):
    name: Name
    email: Email
    roles: Annotated[list[Role], Field(min_length=1)]
    locale: Locale = Locale.EN


class Operator(_Strict):
    """A secretariat mailbox. Written in the file as a bare email or as a mapping."""

    email: Email
    name: Annotated[str, limits.one_line(limits.MAX_NAME)] | None = None
    locale: Locale = Locale.EN

    @model_validator(mode="before")
    @classmethod
    def _from_bare_email(cls, data: Any) -> Any:
        return {"email": data} if isinstance(data, str) else data


class PartyCalendar(_Strict):
    """Whose public holidays a party keeps: a country of the `holidays` package, and a subdivision.

    Written as a bare code (`calendar: CL`) or a mapping (`calendar: {country: US, subdiv: DC}`).
    """

    country: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")]
    subdiv: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,10}$")] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_bare_code(cls, data: Any) -> Any:
        return {"country": data} if isinstance(data, str) else data

    @property
    def label(self) -> str:
        return f"{self.country}-{self.subdiv}" if self.subdiv else self.country


class Window(_Strict):
    """A window written as `{days: 10, count: working_days}`; calendar days by default."""

    days: Annotated[int, Field(ge=1, le=365)]
    count: Count = Count.CALENDAR_DAYS


class Offsets(_Strict):
    """Reminder offsets written as `{days: [5, 2, 1], count: working_days}`."""

    days: list[Annotated[int, Field(ge=1)]]
    count: Count = Count.CALENDAR_DAYS

    @field_validator("days")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return distinct_days(value)


class Party(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$", description="ISO country code, e.g. CL")]
    name: Name
    approval: ApprovalRule = ApprovalRule.ANY
    # Whose holidays it keeps when deadlines count working days; by default the country of `code`.
    calendar: PartyCalendar | None = None
    counterparts: Annotated[list[Counterpart], Field(min_length=1)]

    @model_validator(mode="after")
    def _has_each_role(self) -> Party:
        for role in Role:
            if not any(role in c.roles for c in self.counterparts):
                raise ValueError(f"party {self.code} has no counterpart with the role {role.value}")
        return self

    def with_role(self, role: Role) -> list[Counterpart]:
        return [c for c in self.counterparts if role in c.roles]

    @property
    def holiday_calendar(self) -> PartyCalendar:
        return self.calendar or PartyCalendar(country=self.code)


class Declaration(_Strict):
    id: Annotated[str, Field(description="slug; the workflow id is consultation-<id>"), limits.one_line(80)]
    title: Title
    signed_at: limits.WrittenDate
    first_round_within_days: Annotated[int, Field(ge=1, le=365)] = 15
    reminder_days_before: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [7, 3, 1])
    # How long approvers have to decide on minutes (and, later, drafts); same reminder rule.
    approval_within_days: Annotated[int, Field(ge=1, le=365)] = 7
    # Once the agreement is concluded, a review round opens every N months (none if unset).
    review_every_months: Annotated[int, Field(ge=1, le=120)] | None = None
    # The same three windows, written with how they are counted (calendar or working days). Given
    # one, the `_days` key above takes its number (so both agree in the recorded declaration).
    first_round_within: Window | None = None
    approval_within: Window | None = None
    reminder_before: Offsets | None = None
    pillars: Annotated[list[Pillar], Field(min_length=1)] = Field(default_factory=lambda: list(Pillar))
    operators: Annotated[list[Operator], Field(min_length=1)]
    parties: Annotated[list[Party], Field(min_length=2), limits.at_most(limits.MAX_PARTIES)]

    @model_validator(mode="before")
    @classmethod
    def _counted_windows(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for new, old in WINDOW_KEYS:
            window = data.get(new)
            days = window.get("days") if isinstance(window, dict) else getattr(window, "days", None)
            if days is None:
                continue
            if old in data and _comparable(data[old]) != _comparable(days):
                raise ValueError(f"give either {old} or {new}, not both")
            data[old] = days
        return data

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if value.startswith("consultation-"):
            raise ValueError("must not start with 'consultation-' (the workflow id adds that prefix)")
        if not SLUG.match(value):
            raise ValueError(
                "must be a slug: lowercase letters, digits and hyphens, "
                "starting and ending with a letter or digit, at most 80 characters"
            )
        return value

    @field_validator("signed_at", mode="before")
    @classmethod
    def _explicit_timezone(cls, value: Any) -> Any:
        # YAML turns an unquoted timestamp into a datetime; keep pydantic's own
        # message for strings and make the naive case explicit.
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("must carry a timezone, e.g. 2026-11-27T10:00:00-03:00")
        return value

    @field_validator("reminder_days_before")
    @classmethod
    def _distinct_reminders(cls, value: list[int]) -> list[int]:
        return distinct_days(value)

    @field_validator("pillars")
    @classmethod
    def _distinct_pillars(cls, value: list[Pillar]) -> list[Pillar]:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a pillar")
        return value

    @model_validator(mode="after")
    def _unique_codes_and_emails(self) -> Declaration:
        codes = [p.code for p in self.parties]
        if dup := _first_duplicate(codes):
            raise ValueError(f"party code {dup} appears more than once")
        emails = [c.email for p in self.parties for c in p.counterparts] + [o.email for o in self.operators]
        if dup := _first_duplicate(emails):
            raise ValueError(f"email {dup} appears more than once")
        too_long = [d for d in self.reminder_days_before if d >= self.first_round_within_days]
        if too_long:
            raise ValueError(
                f"reminder_days_before {too_long} must be fewer than first_round_within_days "
                f"({self.first_round_within_days})"
            )
        return self

    @model_validator(mode="after")
    def _recordable(self, info: ValidationInfo) -> Declaration:
        # Once sent, it is the input of the consultation and of each of its rounds.
        if limits.sent_now(info):
            size = len(self.model_dump_json())
            if size > limits.MAX_DECLARATION_BYTES:
                raise limits.too_large("the declaration, as recorded,", size, limits.MAX_DECLARATION_BYTES)
        return self

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.id)

    @property
    def first_round_deadline(self) -> datetime:
        """In calendar days; a consultation counting working days has its own (`ConsultationInput`)."""
        return self.signed_at + timedelta(days=self.first_round_within_days)

    @property
    def first_round_window(self) -> Window:
        return self.first_round_within or Window(days=self.first_round_within_days)

    @property
    def approval_window(self) -> Window:
        return self.approval_within or Window(days=self.approval_within_days)

    @property
    def reminder_offsets(self) -> Offsets:
        return self.reminder_before or Offsets(days=self.reminder_days_before)

    @property
    def counts_working_days(self) -> bool:
        """Whether a window counts working days: only then does the consultation need the parties' calendars."""
        counts = (self.first_round_window.count, self.approval_window.count, self.reminder_offsets.count)
        return Count.WORKING_DAYS in counts

    @property
    def holiday_calendars(self) -> list[PartyCalendar]:
        """Each party's calendar, once (two parties may keep the same one)."""
        seen: dict[str, PartyCalendar] = {}
        for party in self.parties:
            seen.setdefault(party.holiday_calendar.label, party.holiday_calendar)
        return list(seen.values())

    @property
    def document_locales(self) -> list[Locale]:
        """The languages its documents (minutes) are written in: Spanish and English, the founding
        pair, plus any other language one of its readers reads."""
        read = {Locale.ES, Locale.EN} | {c.locale for p in self.parties for c in p.counterparts}
        read |= {o.locale for o in self.operators}
        return [locale for locale in Locale if locale in read]

    def party(self, code: str) -> Party | None:
        return next((p for p in self.parties if p.code == code), None)


# The windows a declaration may write with how they are counted, and the key each replaces.
WINDOW_KEYS = (
    ("first_round_within", "first_round_within_days"),
    ("approval_within", "approval_within_days"),
    ("reminder_before", "reminder_days_before"),
)


def distinct_days(value: list[int]) -> list[int]:
    """Reminder offsets, latest first; a day given twice is refused."""
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a day")
    return sorted(value, reverse=True)


def _comparable(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def workflow_id_for(consultation_id: str) -> str:
    """Accepts either the declaration id or the full workflow id."""
    return consultation_id if consultation_id.startswith("consultation-") else f"consultation-{consultation_id}"


def _first_duplicate(values: list[str]) -> str | None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None

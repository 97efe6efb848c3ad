"""A notice's facts are named, typed fields: a misspelt one is refused, never silently dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.declaration import Locale
from schemas.notices import Notice, NoticeFacts, NoticeKind, Recipient

AT = datetime(2026, 12, 12, 13, 0, tzinfo=UTC)


def test_a_misspelt_fact_is_refused() -> None:
    misspelt: dict[str, Any] = {"dedline": AT}
    with pytest.raises(ValidationError, match="dedline"):
        NoticeFacts(**misspelt)
    with pytest.raises(ValidationError, match="days_lft"):
        NoticeFacts.model_validate({"deadline": AT, "days_lft": 3})


def test_a_notice_built_from_facts_carries_them_under_the_names_the_mail_activity_reads() -> None:
    facts = NoticeFacts(deadline=AT, days_left=3, round_number=1)
    notice = Notice.model_validate(
        {
            **dict(facts),
            "notice_id": "cl-us.002.reminder",
            "kind": NoticeKind.REMINDER,
            "consultation_id": "cl-us",
            "title": "Joint Declaration",
            "issued_at": AT,
            "utc_offset_minutes": -180,
            "recipients": [Recipient(name="Ana", email="ana@minrel.example", locale=Locale.ES)],
        }
    )
    dumped = notice.model_dump(mode="json")
    assert (dumped["deadline"], dumped["days_left"], dumped["round_number"]) == ("2026-12-12T13:00:00Z", 3, 1)
    assert Notice.model_validate(dumped) == notice
    with pytest.raises(ValidationError, match="dedline"):
        Notice.model_validate({**dumped, "dedline": dumped["deadline"]})

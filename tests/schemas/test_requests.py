"""Request models normalise every email they carry, so the workflows compare addresses with `==`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.approvals import DecisionRequest, DelegateRequest
from schemas.consultation import OpenRoundRequest, WithdrawRequest
from schemas.rounds import CloseRoundRequest


def test_emails_in_requests_arrive_stripped_and_lower_cased() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    opened = OpenRoundRequest(meeting_at=at, inputs_due=at, requested_by="  Secretariat@MINREL.example ")
    decided = DecisionRequest(approver="CFuentes@minrel.example", decision="approve", sha256="x", recorded_by=" A@B.cl")
    delegated = DelegateRequest(approver="X@Y.example", delegate=" Z@Y.EXAMPLE ", recorded_by="x@y.example")
    closed = CloseRoundRequest(reason="moved", requested_by="US@State.Example")
    assert opened.requested_by == "secretariat@minrel.example"
    assert (decided.approver, decided.recorded_by) == ("cfuentes@minrel.example", "a@b.cl")
    assert (delegated.approver, delegated.delegate) == ("x@y.example", "z@y.example")
    assert closed.requested_by == "us@state.example"


def test_a_request_without_an_email_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not an email address"):
        WithdrawRequest(reason="done", requested_by="the secretariat")

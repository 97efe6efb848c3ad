"""Where a notice's batch stood when its `send_messages` activity failed for good, read from the failure alone
(no server): who the last heartbeat or the last attempt's failure settled, who is left, why, and whether time
ran out (then the workflow hands them over, or records them as not sent within a day)."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, RetryState, TimeoutError, TimeoutType

from schemas.declaration import Locale
from schemas.notices import BatchProgress, DeliveryOutcome, Recipient
from workflows.delivery import BatchResult

PEOPLE = [Recipient(name=n, email=f"{n}@x.example", locale=Locale.EN) for n in ("ana", "bob", "eve", "joe")]
# ana reached, bob refused for good; eve and joe not reached yet.
PROGRESS = BatchProgress(settled=[0, 1], refused={"bob@x.example": "550 no such user"})


def failed(cause: BaseException, retry_state: RetryState) -> ActivityError:
    error = ActivityError(
        "activity error",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="send_messages",
        activity_id="notice-001-opened",
        retry_state=retry_state,
    )
    error.__cause__ = cause
    return error


def test_retries_run_out_on_an_smtp_error_and_the_failures_details_say_who_was_settled() -> None:
    # As send_messages fails an attempt: the SMTP error's type and text, and the progress as details.
    smtp = ApplicationError("connection refused", PROGRESS.model_dump(), type="SMTPConnectError")
    result = BatchResult.of_failure(failed(smtp, RetryState.TIMEOUT), PEOPLE)
    assert result.left == PEOPLE[2:]
    assert result.timed_out and "connection refused" in result.why
    assert result.given_up("not sent within a day: ") == DeliveryOutcome(
        refused={"bob@x.example": "550 no such user"},
        failed={
            "eve@x.example": "not sent within a day: SMTPConnectError: connection refused",
            "joe@x.example": "not sent within a day: SMTPConnectError: connection refused",
        },
    )


def test_a_worker_lost_on_the_last_attempt_leaves_its_last_heartbeat_in_the_timeout() -> None:
    timeout = TimeoutError(
        "activity timeout", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[PROGRESS.model_dump()]
    )
    result = BatchResult.of_failure(failed(timeout, RetryState.TIMEOUT), PEOPLE)
    assert result.left == PEOPLE[2:] and result.timed_out


def test_a_failure_for_good_settles_nobody_it_does_not_name_and_is_not_out_of_time() -> None:
    gone = ApplicationError("no document with SHA-256 abc in the history of round-1", non_retryable=True)
    result = BatchResult.of_failure(failed(gone, RetryState.NON_RETRYABLE_FAILURE), PEOPLE)
    assert result.left == PEOPLE and not result.timed_out
    assert result.given_up().failed == {
        p.email: "no document with SHA-256 abc in the history of round-1" for p in PEOPLE
    }

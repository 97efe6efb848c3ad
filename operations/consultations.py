"""What an operator can do, as typed calls on a Temporal client.

The CLI is one caller, tests are others; what an email link asks lives beside
this in `operations/links.py`. Every failure a person can cause or meet is
raised as `OperationError` with a message written for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from operations import notices
from operations.calendars import UnknownCalendar, today_in, working_calendar
from schemas import search_attributes as sa
from schemas.approvals import Decision, DecisionRecord, DecisionRequest
from schemas.consultation import (
    ConsultationInput,
    ConsultationStatus,
    ExtendDeadlineRequest,
    Extension,
    OpenRoundRequest,
    RoundRecord,
    Stage,
    StartDraftingRequest,
    SubmitDraftRequest,
    Withdrawal,
    WithdrawRequest,
)
from schemas.declaration import Declaration, workflow_id_for
from schemas.documents import DocumentVersion
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import (
    CloseRoundRequest,
    MeetingRescheduled,
    ReissueMinutesRequest,
    RescheduleMeetingRequest,
    RoundState,
    RoundStatus,
    SubmitInputRequest,
)
from schemas.working_days import WorkingCalendar
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound
from workflows.views import initial_search_attributes, static_details, static_summary

QUERY_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)

Req = TypeVar("Req")
Res = TypeVar("Res")


class OperationError(RuntimeError):
    pass


@dataclass(frozen=True)
class DecisionOnBehalf:
    """An approver's decision that an operator records for them (taken in a meeting, say).

    It names no version: it is tied to the one current when it is sent (`on`).
    """

    approver: str
    decision: Decision
    recorded_by: str
    comment: str = ""

    def on(self, version: DocumentVersion) -> DecisionRequest:
        return DecisionRequest(
            approver=self.approver,
            decision=self.decision,
            sha256=version.sha256,
            comment=self.comment,
            recorded_by=self.recorded_by,
        )


async def start(
    client: Client, declaration: Declaration, task_queue: str, calendar: WorkingCalendar | None = None
) -> WorkflowHandle[Any, Any]:
    """Starts the consultation; when it counts working days, with the parties' holidays recorded in its input
    (`calendar`, or computed here from the `holidays` package)."""
    if calendar is None and declaration.counts_working_days:
        try:
            calendar = working_calendar(declaration, today_in(declaration, datetime.now(UTC)))
        except UnknownCalendar as error:
            raise OperationError(f"{error}; nothing was started") from None
    input = ConsultationInput(declaration=declaration, calendar=calendar)
    try:
        return await client.start_workflow(
            Consultation.run,
            input,
            id=declaration.workflow_id,
            task_queue=task_queue,
            # A declaration starts one consultation, ever: never overwrite a record.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(input),
            static_summary=static_summary(input),
            static_details=static_details(input),
        )
    except WorkflowAlreadyStartedError:
        raise OperationError(
            f"a consultation with id {declaration.id} already exists ({declaration.workflow_id}); "
            "nothing was started. Use `consult status` to see it, or give the declaration another id."
        ) from None


async def status(client: Client, consultation_id: str) -> ConsultationStatus:
    handle = client.get_workflow_handle_for(Consultation.run, workflow_id_for(consultation_id))
    try:
        description = await handle.describe()
    except RPCError as err:
        raise _not_found(consultation_id, err) from None
    if description.workflow_type != "Consultation":
        parent = description.parent_id or "its consultation"
        raise OperationError(
            f"{handle.id} is a {description.workflow_type}, not a consultation; give the consultation's id ({parent})"
        )
    if description.status == WorkflowExecutionStatus.COMPLETED:
        # A finished consultation's result is its final status: no worker needed.
        final: ConsultationStatus = await handle.result()
        return final.model_copy(update={"notices": await notices.settle(client, final.notices)})
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise OperationError(
            f"consultation {consultation_id} is {_status_word(description.status)}; it has no current status"
        )
    try:
        current = await handle.query(Consultation.status, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise OperationError(
                "no worker answered; is `consult worker` (or `consult dev`) running on task queue "
                f"{description.task_queue}?"
            ) from None
        raise
    except WorkflowQueryFailedError as err:
        raise OperationError(f"the status query failed: {err}") from None
    return current.model_copy(update={"notices": await notices.settle(client, current.notices)})


async def open_round(client: Client, consultation_id: str, request: OpenRoundRequest) -> RoundRecord:
    return await _update(client, consultation_id, Consultation.open_round, request)


async def extend(client: Client, consultation_id: str, request: ExtendDeadlineRequest) -> Extension:
    return await _update(client, consultation_id, Consultation.extend_deadline, request)


async def withdraw(client: Client, consultation_id: str, request: WithdrawRequest) -> Withdrawal:
    return await _update(client, consultation_id, Consultation.withdraw, request)


async def start_drafting(client: Client, consultation_id: str, request: StartDraftingRequest) -> None:
    await _update(client, consultation_id, Consultation.start_drafting, request)


async def submit_draft(client: Client, consultation_id: str, request: SubmitDraftRequest) -> DocumentVersion:
    return await _update(client, consultation_id, Consultation.submit_draft, request)


async def decide_agreement(client: Client, consultation_id: str, request: DecisionRequest) -> DecisionRecord:
    return await _update(client, consultation_id, Consultation.decide, request)


async def current_draft(client: Client, consultation_id: str) -> DocumentVersion:
    """The latest agreement draft: the version approvers decide on now."""
    current = await status(client, consultation_id)
    if not current.drafts:
        raise OperationError("no draft has been submitted yet")
    return current.drafts[-1]


async def decide_current_draft(client: Client, consultation_id: str, decision: DecisionOnBehalf) -> DecisionRecord:
    """A decision on the current draft, recorded against its SHA-256.

    Should a newer version be submitted in between, the workflow refuses it: the SHA-256 is no longer current.
    """
    draft = await current_draft(client, consultation_id)
    return await decide_agreement(client, consultation_id, decision.on(draft))


async def _update(
    client: Client, consultation_id: str, update: UpdateMethodMultiParam[[Any, Req], Res], request: Req
) -> Res:
    # Asking for the status first checks that the consultation exists, is still open,
    # and that a worker is there to answer: an update sent with no worker would wait,
    # and could be applied long after the operator gave up on it.
    current = await status(client, consultation_id)
    if current.stage.is_final:
        raise OperationError(f"refused: the consultation is {current.stage.value}; nothing more can be recorded")
    return await _send_update(client.get_workflow_handle(current.workflow_id), update, request)


async def _send_update(
    handle: WorkflowHandle[Any, Any], update: UpdateMethodMultiParam[[Any, Req], Res], request: Req
) -> Res:
    try:
        return await handle.execute_update(update, request, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        raise OperationError(f"refused: {message}") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise OperationError(
            "no answer in time; the request may still be recorded when a worker picks it up. "
            "Check with `consult status` before repeating it."
        ) from None


# --- rounds -------------------------------------------------------------------------------


async def round_status(client: Client, consultation_id: str, number: int | None = None) -> RoundStatus:
    """The given round, or the latest one, from its own workflow (its result once it has closed)."""
    current = await status(client, consultation_id)
    if not current.rounds:
        raise OperationError(f"consultation {consultation_id} has no rounds yet; open one with `consult round open`")
    if number is None:
        number = current.rounds[-1].number
    if not 1 <= number <= len(current.rounds):
        raise OperationError(f"consultation {consultation_id} has rounds 1 to {len(current.rounds)}, not {number}")
    return await round_of(client, current.rounds[number - 1].workflow_id, number)


async def round_of(client: Client, workflow_id: str, number: int) -> RoundStatus:
    """A round's status from its own workflow: queried while it runs, its result once it has closed."""
    handle = client.get_workflow_handle_for(TechnicalRound.run, workflow_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperationError(f"round {number} is opening; try again in a moment") from None
        raise
    if description.status == WorkflowExecutionStatus.COMPLETED:
        status: RoundStatus = await handle.result()
    elif description.status != WorkflowExecutionStatus.RUNNING:
        raise OperationError(f"round {number} is {_status_word(description.status)}")
    else:
        status = await handle.query(TechnicalRound.status, rpc_timeout=QUERY_TIMEOUT)
    return status.model_copy(update={"notices": await notices.settle(client, status.notices)})


async def submit_input(client: Client, consultation_id: str, request: SubmitInputRequest) -> SubmissionRecord:
    return await _round_update(client, consultation_id, TechnicalRound.submit_input, request)


async def close_round(client: Client, consultation_id: str, request: CloseRoundRequest) -> None:
    await _round_update(client, consultation_id, TechnicalRound.close, request)


async def reschedule_meeting(
    client: Client, consultation_id: str, request: RescheduleMeetingRequest
) -> MeetingRescheduled:
    """Move the open round's meeting; everyone gets the invitation updated (same UID, higher SEQUENCE)."""
    return await _round_update(client, consultation_id, TechnicalRound.reschedule, request)


async def reissue_minutes(client: Client, consultation_id: str, request: ReissueMinutesRequest) -> DocumentVersion:
    return await _round_update(client, consultation_id, TechnicalRound.reissue_minutes, request)


async def decide_minutes(client: Client, consultation_id: str, request: DecisionRequest) -> DecisionRecord:
    return await _round_update(client, consultation_id, TechnicalRound.decide, request)


async def current_minutes(
    client: Client, consultation_id: str, number: int | None = None
) -> tuple[int, DocumentVersion]:
    """A round's (default: the latest's) current minutes, the version its approvers decide on, with its number."""
    current = await round_status(client, consultation_id, number)
    if not current.minutes:
        raise OperationError(f"round {current.number} has no minutes yet")
    return current.number, current.minutes[-1]


async def decide_current_minutes(client: Client, consultation_id: str, decision: DecisionOnBehalf) -> DecisionRecord:
    """A decision on the latest round's current minutes, recorded against their SHA-256 (refused if stale)."""
    _, minutes = await current_minutes(client, consultation_id)
    return await decide_minutes(client, consultation_id, decision.on(minutes))


async def _round_update(
    client: Client, consultation_id: str, update: UpdateMethodMultiParam[[Any, Req], Res], request: Req
) -> Res:
    current = await round_status(client, consultation_id)
    if current.state is RoundState.CLOSED:
        raise OperationError(f"round {current.number} is closed; open the next one with `consult round open`")
    return await _send_update(client.get_workflow_handle(current.workflow_id), update, request)


async def list_consultations(
    client: Client, *, stage: Stage | None = None, overdue: bool = False
) -> list[WorkflowExecution]:
    query = "WorkflowType = 'Consultation'"
    if stage is not None:
        query += f" AND {sa.STAGE.name} = '{stage.value}'"
    if overdue:
        query += f" AND {sa.OVERDUE.name} = true"
    return [execution async for execution in client.list_workflows(query)]


async def list_review_schedules(client: Client) -> list[dict[str, object]]:
    """The Schedules that open review rounds of concluded agreements."""
    rows: list[dict[str, object]] = []
    async for listed in await client.list_schedules():
        if not listed.id.startswith("review-"):
            continue
        description = await client.get_schedule_handle(listed.id).describe()
        intervals = description.schedule.spec.intervals
        upcoming = description.info.next_action_times
        rows.append(
            {
                "kind": "review_schedule",
                "id": listed.id,
                "consultation": listed.id.removeprefix("review-"),
                "every_days": intervals[0].every.days if intervals else None,
                "next_run": upcoming[0].isoformat() if upcoming else None,
                "runs": description.info.num_actions,
            }
        )
    return rows


def _not_found(consultation_id: str, err: RPCError) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return OperationError(f"there is no consultation {consultation_id} ({workflow_id_for(consultation_id)})")
    return err


def _status_word(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower().replace("_", " ") if status else "unknown"

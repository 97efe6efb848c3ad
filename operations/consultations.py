"""What an operator can do, as calls on a Temporal client.

The CLI is one caller, tests are others; what an email link asks lives beside
this in `operations/links.py`. Every failure a person can cause or meet is
raised as `OperationError` with a message written for them.

Workflows, queries and updates are named by string, with result types from
`schemas`: importing this module (and so starting `consult status`) loads no
workflow code, and through it no activity (Jinja, SMTP, Markdown). The names
are checked against the workflow classes by `tests/operations/test_names.py`.

Few requests to the server. A read is one query (`reject_condition`: a finished
workflow is refused at once by the server, and its result read instead, with no
worker); a consultation update is the update alone; a round update is one
describe of the consultation (its `ConsultationRound` attribute names the open
round) and the update. What went wrong is found out only after a request failed
(a describe, a status query), to say it in words.

Every update carries an id of its own (`operations.update_ids`): Temporal
applies an update id once per run, so one that no worker answered in time is
sent once more with the same id and recorded at most once. A person repeating
the command cannot record it twice either: the workflow refuses what would
repeat (the same input as the current one, a second open round, a decision or
forwarding already recorded, a meeting already at that time, a draft or minutes
while approvers have them). The id is not the request's alone: the same words
sent later can mean something new (a round after the last one closed, an input
changed back, a decision on the version current now), which an id shared with
the earlier request would have answered with the earlier result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.api.enums.v1 import EventType, TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from operations import notices
from operations.documents import with_minutes_texts
from operations.listing import CONSULTATION as CONSULTATION
from operations.update_ids import update_id
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

if TYPE_CHECKING:
    from schemas.working_days import WorkingCalendar

# The workflows' names, and what they answer to (checked against the classes by the tests; CONSULTATION's
# home is `operations.listing`, which `consult list` loads alone).
TECHNICAL_ROUND = "TechnicalRound"
STATUS_QUERY = "status"
OPEN_ROUND, EXTEND_DEADLINE, WITHDRAW = "open_round", "extend_deadline", "withdraw"
START_DRAFTING, SUBMIT_DRAFT, DECIDE = "start_drafting", "submit_draft", "decide"
SUBMIT_INPUT, CLOSE_ROUND, RESCHEDULE, REISSUE_MINUTES = "submit_input", "close", "reschedule", "reissue_minutes"
# The refusal type of the workflows' validators (`workflows/validation.py`).
REFUSED = "RequestRefused"

# Read at each call: tests (and callers that cannot wait that long) set shorter ones.
QUERY_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)

S = TypeVar("S", bound=BaseModel)
Res = TypeVar("Res")


class OperationError(RuntimeError):
    pass


@dataclass(frozen=True)
class DecisionOnBehalf:
    """An approver's decision that an operator records for them (taken in a meeting, say).

    It names no version: the workflow records it on the version current when it arrives (`request`).
    """

    approver: str
    decision: Decision
    recorded_by: str
    comment: str = ""

    def request(self) -> DecisionRequest:
        return DecisionRequest(
            approver=self.approver, decision=self.decision, comment=self.comment, recorded_by=self.recorded_by
        )


def round_workflow_id(consultation_workflow_id: str, number: int) -> str:
    """Round `number`'s workflow id, as the consultation starts it (`workflows.technical_round`)."""
    return f"{consultation_workflow_id}-round-{number}"


async def start(
    client: Client, declaration: Declaration, task_queue: str, calendar: WorkingCalendar | None = None
) -> WorkflowHandle[Any, Any]:
    """Starts the consultation; when it counts working days, with the parties' holidays recorded in its input
    (`calendar`, or computed here from the `holidays` package)."""
    # Here, not at the top: reading a status needs neither the holidays nor the workflows' readouts.
    from operations.calendars import UnknownCalendar, today_in, working_calendar
    from workflows.views import initial_search_attributes, static_details, static_summary

    if calendar is None and declaration.counts_working_days:
        try:
            calendar = working_calendar(declaration, today_in(declaration, datetime.now(UTC)))
        except UnknownCalendar as error:
            raise OperationError(f"{error}; nothing was started") from None
    input = ConsultationInput(declaration=declaration, calendar=calendar)
    try:
        return await client.start_workflow(
            CONSULTATION,
            input,
            id=declaration.workflow_id,
            task_queue=task_queue,
            result_type=ConsultationStatus,
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


# --- reading --------------------------------------------------------------------------------


async def status(client: Client, consultation_id: str) -> ConsultationStatus:
    """The consultation as a person reads it, with where each notice's delivery stands.

    A round collecting inputs tells its consultation of them only with its next change of state (patch
    quiet-history): its live grid is read from the round itself, one query while a round collects.
    """
    current = await _consultation_status(client, consultation_id)
    settled, rounds = await asyncio.gather(notices.settle(client, current.notices), _with_live_grid(client, current))
    return current.model_copy(update={"notices": settled, "rounds": rounds})


async def _with_live_grid(client: Client, current: ConsultationStatus) -> list[RoundRecord]:
    rounds = list(current.rounds)
    if not rounds or rounds[-1].state is not RoundState.COLLECTING:
        return rounds
    last = rounds[-1]
    try:
        live = await client.get_workflow_handle(last.workflow_id).query(
            STATUS_QUERY, result_type=RoundStatus, rpc_timeout=QUERY_TIMEOUT
        )
    except (RPCError, WorkflowQueryFailedError):
        return rounds  # the round is starting, or gone: its record as last reported
    rounds[-1] = last.model_copy(update={"grid": live.grid, "missing": live.missing})
    return rounds


async def declaration(client: Client, consultation_id: str) -> Declaration:
    """The consultation's declaration, from the first event of its history: one request, no worker needed."""
    handle = client.get_workflow_handle(workflow_id_for(consultation_id))
    try:
        async for event in handle.fetch_history_events(page_size=1, rpc_timeout=QUERY_TIMEOUT):
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                payloads = event.workflow_execution_started_event_attributes.input.payloads
                (input,) = await client.data_converter.decode(payloads, [ConsultationInput])
                if isinstance(input, ConsultationInput):
                    return input.declaration
            break
    except ValueError:  # pydantic's ValidationError among them
        pass  # another workflow's input: said below
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    raise await _consultation_problem(client, consultation_id)


async def round_status(client: Client, consultation_id: str, number: int | None = None) -> RoundStatus:
    """The given round, or the latest one, from its own workflow (its result once it has closed)."""
    current = await _round_status(client, consultation_id, number)
    return current.model_copy(update={"notices": await notices.settle(client, current.notices)})


async def round_of(client: Client, workflow_id: str, number: int) -> RoundStatus:
    """A round's status from its own workflow: queried while it runs, its result once it has closed."""

    async def opening() -> OperationError:
        return OperationError(f"round {number} is opening; try again in a moment")

    current = await _read(client, workflow_id, RoundStatus, TECHNICAL_ROUND, f"round {number}", opening)
    # A closed round's result names its minutes without their text: read from where it was written.
    current = await with_minutes_texts(client, current)
    return current.model_copy(update={"notices": await notices.settle(client, current.notices)})


async def recorded_status(client: Client, consultation_id: str) -> ConsultationStatus:
    """The consultation as recorded, its notices' delivery not looked up: for deciding, not for showing."""
    return await _consultation_status(client, consultation_id)


async def recorded_round(client: Client, consultation_id: str, number: int | None = None) -> RoundStatus:
    """A round (default: the latest) as recorded, its notices' delivery not looked up."""
    return await _round_status(client, consultation_id, number)


async def current_minutes(
    client: Client, consultation_id: str, number: int | None = None
) -> tuple[int, DocumentVersion]:
    """A round's (default: the latest's) current minutes, the version its approvers decide on, with its number."""
    current = await _round_status(client, consultation_id, number)
    if not current.minutes:
        raise OperationError(f"round {current.number} has no minutes yet")
    return current.number, current.minutes[-1]


# --- the consultation's updates -------------------------------------------------------------


async def open_round(client: Client, consultation_id: str, request: OpenRoundRequest) -> RoundRecord:
    return await _update(client, consultation_id, OPEN_ROUND, request, RoundRecord)


async def extend(client: Client, consultation_id: str, request: ExtendDeadlineRequest) -> Extension:
    return await _update(client, consultation_id, EXTEND_DEADLINE, request, Extension)


async def withdraw(client: Client, consultation_id: str, request: WithdrawRequest) -> Withdrawal:
    return await _update(client, consultation_id, WITHDRAW, request, Withdrawal)


async def start_drafting(client: Client, consultation_id: str, request: StartDraftingRequest) -> None:
    await _update(client, consultation_id, START_DRAFTING, request, type(None))


async def submit_draft(client: Client, consultation_id: str, request: SubmitDraftRequest) -> DocumentVersion:
    return await _update(client, consultation_id, SUBMIT_DRAFT, request, DocumentVersion)


async def decide_current_draft(client: Client, consultation_id: str, decision: DecisionOnBehalf) -> DecisionRecord:
    """A decision on the draft current when it arrives, recorded with that version and its SHA-256.

    Nothing is read first: reading the version, then sending a decision on it, closed no gap an operator
    could see (a draft submitted a moment before the read was taken all the same), and cost a read of the
    whole consultation. The record says which version it is on.
    """
    return await _update(client, consultation_id, DECIDE, decision.request(), DecisionRecord)


async def _update(client: Client, consultation_id: str, name: str, request: BaseModel, result_type: type[Res]) -> Res:
    """Sent straight to the consultation: no request before it. Asked only once it failed: why."""
    handle = client.get_workflow_handle(workflow_id_for(consultation_id))
    try:
        return await _send_update(handle, name, request, result_type)
    except _Gone:
        raise await _consultation_problem(client, consultation_id) from None
    except _Unhandled as unhandled:
        # Another kind of workflow under that id (a round's, say) has no such update; otherwise a bug, said as is.
        await _describe_consultation(client, consultation_id)
        raise unhandled.error from None


# --- the open round's updates ---------------------------------------------------------------


async def submit_input(client: Client, consultation_id: str, request: SubmitInputRequest) -> SubmissionRecord:
    return await _round_update(client, consultation_id, SUBMIT_INPUT, request, SubmissionRecord)


async def close_round(client: Client, consultation_id: str, request: CloseRoundRequest) -> None:
    await _round_update(client, consultation_id, CLOSE_ROUND, request, type(None))


async def reschedule_meeting(
    client: Client, consultation_id: str, request: RescheduleMeetingRequest
) -> MeetingRescheduled:
    """Move the open round's meeting; everyone gets the invitation updated (same UID, higher SEQUENCE)."""
    return await _round_update(client, consultation_id, RESCHEDULE, request, MeetingRescheduled)


async def reissue_minutes(client: Client, consultation_id: str, request: ReissueMinutesRequest) -> DocumentVersion:
    return await _round_update(client, consultation_id, REISSUE_MINUTES, request, DocumentVersion)


async def decide_current_minutes(client: Client, consultation_id: str, decision: DecisionOnBehalf) -> DecisionRecord:
    """A decision on the latest round's minutes current when it arrives, recorded with that version and its
    SHA-256 (as `decide_current_draft`: the minutes are not read first)."""
    number = await _latest_round_number(client, consultation_id)
    return await _update_round(client, consultation_id, number, DECIDE, decision.request(), DecisionRecord)


async def _round_update(
    client: Client, consultation_id: str, name: str, request: BaseModel, result_type: type[Res]
) -> Res:
    number = await _open_round_number(client, consultation_id)
    return await _update_round(client, consultation_id, number, name, request, result_type)


async def _open_round_number(client: Client, consultation_id: str) -> int:
    """The open round, from one describe of the consultation (its `ConsultationRound` attribute)."""
    description = await _describe_consultation(client, consultation_id)
    stage = description.typed_search_attributes.get(sa.STAGE)
    if description.status != WorkflowExecutionStatus.RUNNING or (stage and Stage(stage).is_final):
        raise _ended(consultation_id, description)
    number = description.typed_search_attributes.get(sa.ROUND)
    if number:
        return number
    # None is open: the record says why (or the attribute lags a round opened a moment ago).
    current = await _consultation_status(client, consultation_id)
    if current.stage.is_final:
        raise OperationError(f"refused: the consultation is {current.stage.value}; nothing more can be recorded")
    last = _latest(consultation_id, current)
    if last.state is RoundState.CLOSED:
        raise _round_closed(last.number)
    return last.number


async def _latest_round_number(client: Client, consultation_id: str) -> int:
    """The latest round, open or closed: the open one from a describe, else from the record."""
    description = await _describe_consultation(client, consultation_id)
    number = description.typed_search_attributes.get(sa.ROUND)
    if number and description.status == WorkflowExecutionStatus.RUNNING:
        return number
    return _latest(consultation_id, await _consultation_status(client, consultation_id)).number


def _latest(consultation_id: str, current: ConsultationStatus) -> RoundRecord:
    if not current.rounds:
        raise OperationError(f"consultation {consultation_id} has no rounds yet; open one with `consult round open`")
    return current.rounds[-1]


async def _update_round(
    client: Client, consultation_id: str, number: int, name: str, request: BaseModel, result_type: type[Res]
) -> Res:
    handle = client.get_workflow_handle(round_workflow_id(workflow_id_for(consultation_id), number))
    try:
        return await _send_update(handle, name, request, result_type)
    except _Gone:
        pass
    except _Unhandled as unhandled:
        raise unhandled.error from None
    # The round's workflow is not there: not started yet, or finished.
    try:
        await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperationError(f"round {number} is opening; try again in a moment") from None
        raise
    raise _round_closed(number)


# --- sending an update ----------------------------------------------------------------------


class _Gone(Exception):
    """The workflow the update was sent to does not exist, or has finished."""


class _Unhandled(Exception):
    """The workflow failed the update without refusing it (no such update there, a payload it cannot read)."""

    def __init__(self, error: OperationError) -> None:
        super().__init__(str(error))
        self.error = error


async def _send_update(handle: WorkflowHandle[Any, Any], name: str, request: BaseModel, result_type: type[Res]) -> Res:
    """The update, with an id of its own; sent once more, with the same id, if no answer came in time."""
    id = update_id(name, request, fresh=True)
    for attempt in (1, 2):
        try:
            result: Res = await handle.execute_update(
                name, request, id=id, result_type=result_type, rpc_timeout=UPDATE_TIMEOUT
            )
            return result
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            refused = OperationError(f"refused: {message}")
            if isinstance(cause, ApplicationError) and cause.type == REFUSED:
                raise refused from None
            raise _Unhandled(refused) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError as err:
            if not isinstance(err.__cause__, RPCError):
                raise  # cancelled here (Ctrl-C), not a deadline: nothing to say or retry
            if attempt == 2:
                raise OperationError(_unanswered(id)) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # "workflow not found", "... already completed"
                raise _Gone() from None
            raise
    raise AssertionError("unreachable")


def _unanswered(id: str) -> str:
    seconds = f"{UPDATE_TIMEOUT.total_seconds():g}"
    return (
        f"no worker answered in time: the request was sent, then sent once more with the same update id "
        f"({id}), and neither got an answer within {seconds} s. It may still be recorded when a worker picks "
        "it up. Repeating the same command is safe: it is recorded at most once. "
        "Check with `consult status`, and that `consult worker` (or `consult dev`) is running."
    )


# --- reading, and saying what went wrong ----------------------------------------------------


async def _consultation_status(client: Client, consultation_id: str) -> ConsultationStatus:
    """The status as recorded (notices not settled): for deciding, not for showing."""

    async def missing() -> OperationError:
        return await _consultation_problem(client, consultation_id)

    workflow_id = workflow_id_for(consultation_id)
    return await _read(
        client, workflow_id, ConsultationStatus, CONSULTATION, f"consultation {consultation_id}", missing
    )


async def _round_status(client: Client, consultation_id: str, number: int | None) -> RoundStatus:
    """Round `number` (default: the latest, found from the consultation), notices not settled."""
    if number is None:
        number = await _latest_round_number(client, consultation_id)
    round_number = number

    async def missing() -> OperationError:
        current = await _consultation_status(client, consultation_id)
        if not current.rounds:
            return OperationError(
                f"consultation {consultation_id} has no rounds yet; open one with `consult round open`"
            )
        if not 1 <= round_number <= len(current.rounds):
            return OperationError(
                f"consultation {consultation_id} has rounds 1 to {len(current.rounds)}, not {round_number}"
            )
        return OperationError(f"round {round_number} is opening; try again in a moment")

    if round_number < 1:
        raise await missing()
    workflow_id = round_workflow_id(workflow_id_for(consultation_id), round_number)
    current = await _read(client, workflow_id, RoundStatus, TECHNICAL_ROUND, f"round {round_number}", missing)
    # A closed round's result names its minutes without their text: read from where it was written.
    return await with_minutes_texts(client, current)


async def _read(
    client: Client,
    workflow_id: str,
    result_type: type[S],
    workflow_type: str,
    name: str,
    missing: Callable[[], Awaitable[OperationError]],
) -> S:
    """A workflow's `status`: one query while it runs; once it has completed, the server refuses the query
    at once and the result (its final status) is read instead, with no worker."""
    handle = client.get_workflow_handle(workflow_id, result_type=result_type)
    try:
        try:
            current: S = await handle.query(
                STATUS_QUERY,
                result_type=result_type,
                reject_condition=QueryRejectCondition.NOT_OPEN,
                rpc_timeout=QUERY_TIMEOUT,
            )
            return current
        except WorkflowQueryRejectedError as rejected:
            if rejected.status != WorkflowExecutionStatus.COMPLETED:
                raise OperationError(f"{name} is {_status_word(rejected.status)}; it has no current status") from None
            final: S = await handle.result()
            return final
    except (ValidationError, WorkflowQueryFailedError) as err:
        # Another kind of workflow under that id answers with another shape, or has no such query.
        wrong = await _wrong_type(handle, workflow_type)
        if wrong is not None:
            raise wrong from None
        raise OperationError(f"the status query failed: {err}") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await missing() from None
        raise await _query_problem(client, handle, err) from None


async def _query_problem(client: Client, handle: WorkflowHandle[Any, Any], err: RPCError) -> Exception:
    """A query no worker answered, said with the task queue, and whether a worker is there but busy."""
    no_poller = err.status == RPCStatusCode.FAILED_PRECONDITION and "no poller seen" in err.message
    timed_out = err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
    if not (no_poller or timed_out):
        return err
    queue: str | None
    try:
        queue = (await handle.describe()).task_queue
    except RPCError:
        queue = None
    shown = queue or "(unknown: the workflow could not be described)"
    if no_poller:
        return OperationError(f"no worker is running for task queue {shown}; start `consult worker` (or `consult dev`)")
    seconds = f"{QUERY_TIMEOUT.total_seconds():g}"
    if queue is not None and await _worker_polling(client, queue):
        return OperationError(
            f"no worker answered within {seconds} s, though one asked task queue {queue} for work within the "
            "last minute: it is busy (or stopped just now); nothing was changed, try again in a moment"
        )
    return OperationError(
        f"no worker answered within {seconds} s; is `consult worker` (or `consult dev`) running on task queue {shown}?"
    )


# A worker asks its task queue for work all the time it runs, each ask waiting up to a minute for a task:
# one seen asking within a little more than that is running (or stopped in the meantime).
POLLED_WITHIN = timedelta(seconds=70)
DESCRIBE_QUEUE_TIMEOUT = timedelta(seconds=3)


async def _worker_polling(client: Client, queue: str) -> bool:
    """Whether a worker asked `queue` for workflow tasks lately: it is running, only slow to answer."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        pollers = (await client.workflow_service.describe_task_queue(request, timeout=DESCRIBE_QUEUE_TIMEOUT)).pollers
    except RPCError:
        return False
    since = datetime.now(UTC) - POLLED_WITHIN
    return any(p.last_access_time.ToDatetime(tzinfo=UTC) >= since for p in pollers)


async def _wrong_type(handle: WorkflowHandle[Any, Any], workflow_type: str) -> OperationError | None:
    try:
        description = await handle.describe()
    except RPCError:
        return None
    return _other_kind(handle.id, description, workflow_type)


def _other_kind(
    workflow_id: str, description: WorkflowExecutionDescription, workflow_type: str
) -> OperationError | None:
    """What to say when the workflow under that id is not the kind asked for (a round's id given for its
    consultation's, say); None when it is."""
    if description.workflow_type == workflow_type:
        return None
    kind = "consultation" if workflow_type == CONSULTATION else "technical round"
    parent = description.parent_id or f"its {kind}"
    return OperationError(
        f"{workflow_id} is a {description.workflow_type}, not a {kind}; give the {kind}'s id ({parent})"
    )


async def _describe_consultation(client: Client, consultation_id: str) -> WorkflowExecutionDescription:
    handle = client.get_workflow_handle(workflow_id_for(consultation_id))
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _no_such(consultation_id) from None
        raise
    wrong = _other_kind(handle.id, description, CONSULTATION)
    if wrong is not None:
        raise wrong
    return description


async def _consultation_problem(client: Client, consultation_id: str) -> OperationError:
    """Why the consultation took no request: it does not exist, is another kind of workflow, or has ended."""
    try:
        description = await _describe_consultation(client, consultation_id)
    except OperationError as problem:
        return problem
    if description.status != WorkflowExecutionStatus.RUNNING:
        return _ended(consultation_id, description)
    return OperationError(f"consultation {consultation_id} did not take the request; try again in a moment")


def _ended(consultation_id: str, description: WorkflowExecutionDescription) -> OperationError:
    stage = description.typed_search_attributes.get(sa.STAGE)
    if stage and Stage(stage).is_final:
        return OperationError(f"refused: the consultation is {stage}; nothing more can be recorded")
    return OperationError(f"consultation {consultation_id} is {_status_word(description.status)}")


def _no_such(consultation_id: str) -> OperationError:
    return OperationError(f"there is no consultation {consultation_id} ({workflow_id_for(consultation_id)})")


def _round_closed(number: int) -> OperationError:
    return OperationError(f"round {number} is closed; open the next one with `consult round open`")


def _status_word(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower().replace("_", " ") if status else "unknown"

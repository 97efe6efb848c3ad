"""A workflow that cannot take an update for a moment: the server's answer, not a refusal and not a bug.

Right after the Temporal server restarts (or a worker dies mid-task), a workflow's task can fail or time
out, and until its next task runs the server answers an update with FAILED_PRECONDITION and a
`WorkflowNotReadyFailure`: nothing was recorded, and the same request a moment later is taken. The CLI
says so in words; the gateway answers 503 ("nothing was lost, try again") as for Temporal out of reach.
"""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

_NOT_READY = "temporal.api.errordetails.v1.WorkflowNotReadyFailure"


def workflow_not_ready(error: BaseException) -> bool:
    if not isinstance(error, RPCError) or error.status is not RPCStatusCode.FAILED_PRECONDITION:
        return False
    try:
        details = error.grpc_status.details
    except Exception:  # details the SDK cannot parse: not this answer
        return False
    return any(d.type_url.endswith(_NOT_READY) for d in details)


MESSAGE = (
    "the workflow cannot take requests for a moment (its last task failed, as after a Temporal server "
    "restart); nothing was recorded: try again in a moment"
)

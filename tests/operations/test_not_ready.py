"""A workflow not ready for an update (the server's answer right after a restart) is a moment's wait, said as such.

Found by `make chaos`: a decision posted through a link just after the Temporal server came back was
answered FAILED_PRECONDITION / WorkflowNotReadyFailure, and the gateway showed a 500 ("a bug") instead of
its 503 ("nothing was lost, try again"). The answer is built here as the server sends it.
"""

from __future__ import annotations

from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import NotFoundFailure, WorkflowNotReadyFailure
from temporalio.service import RPCError, RPCStatusCode

from consult.cli.session import FAILED, Session, failure_message
from gateway.errors import out_of_reach
from operations.not_ready import MESSAGE, workflow_not_ready

UPDATE_REFUSED = "Unable to perform workflow execution update due to unexpected workflow task failure."


def rpc_error(status: RPCStatusCode, message: str, *details: object) -> RPCError:
    packed = []
    for detail in details:
        any_ = AnyProto()
        any_.Pack(detail)  # type: ignore[arg-type]
        packed.append(any_)
    raw = GrpcStatus(code=status.value, message=message, details=packed).SerializeToString()
    return RPCError(message, status, raw)


def test_an_update_refused_because_the_workflow_is_not_ready_is_a_moments_wait() -> None:
    error = rpc_error(RPCStatusCode.FAILED_PRECONDITION, UPDATE_REFUSED, WorkflowNotReadyFailure())
    assert workflow_not_ready(error)
    assert out_of_reach(error)  # the gateway's 503, not a 500
    assert failure_message(error, Session()) == (MESSAGE, FAILED)  # the CLI's words and exit 1, no traceback
    assert "nothing was recorded: try again in a moment" in MESSAGE


def test_other_answers_are_not_mistaken_for_it() -> None:
    no_poller = rpc_error(RPCStatusCode.FAILED_PRECONDITION, "no poller seen for task queue recently")
    not_found = rpc_error(RPCStatusCode.NOT_FOUND, "workflow not found", NotFoundFailure())
    assert not workflow_not_ready(no_poller) and not out_of_reach(no_poller)
    assert not workflow_not_ready(not_found) and not out_of_reach(not_found)
    assert not workflow_not_ready(RuntimeError("boom"))

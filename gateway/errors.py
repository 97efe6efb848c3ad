"""The ways a request can fail, and which of them mean "Temporal is out of reach".

Three kinds, three answers: a `PageError` is a page about the link (bad, expired, closed);
Temporal out of reach or too slow is a 503 "nothing was lost, try again"; anything else
is a bug, a 500 with an error id that finds its log line (gateway/middleware.py).
"""

from __future__ import annotations

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from infra.storage import storage_problem
from operations.not_ready import workflow_not_ready
from schemas.declaration import Locale

# CANCELLED: the gateway never cancels a call itself; the SDK reports its own rpc_timeout
# expiring on a query as CANCELLED ("Timeout expired"), the server's as DEADLINE_EXCEEDED.
OUT_OF_REACH = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


class PageError(Exception):
    """A page about the link itself; `title_key` names its title in the texts."""

    def __init__(self, status: int, title_key: str, detail: str, locale: Locale = Locale.EN) -> None:
        super().__init__(detail)
        self.status = status
        self.title_key = title_key
        self.detail = detail
        self.locale = locale


class Unavailable(Exception):
    """Temporal could not be reached; nothing was recorded."""


def out_of_reach(error: BaseException) -> bool:
    """Temporal unreachable or not answering in time; every other error is a bug."""
    if isinstance(error, Unavailable | WorkflowUpdateRPCTimeoutOrCancelledError | ConnectionError | TimeoutError):
        return True
    if isinstance(error, RPCError):
        # A workflow not ready for updates for a moment (operations.not_ready) is as good as out of reach.
        return error.status in OUT_OF_REACH or workflow_not_ready(error)
    if storage_problem(error) is not None:  # the file store (logged with what is wrong)
        return True
    # The SDK reports a connection it could not make (also a lazy one, on its first call) as a bare
    # RuntimeError with this message: matching it keeps other RuntimeErrors counted as bugs.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


def connecting_failed(error: BaseException) -> bool:
    """A failure of the client provider, whose only work is to connect (the SDK raises RuntimeError)."""
    return out_of_reach(error) or isinstance(error, RuntimeError | OSError)

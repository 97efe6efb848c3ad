"""What an email link can ask of the workflow it names: read its page, decide, forward, submit an input.

Called by the gateway, with the gateway's own rpc_timeout (a page answers within seconds). A page is
one `link_page` query (workflows/pages.py). Every update carries an id derived from the request and
the link (operations/update_ids.py), so a form posted twice, or again after a timeout, records once
and both posts get the first answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from operations.update_ids import update_id
from schemas.approvals import DecisionRecord, DecisionRequest, DelegateRequest, Delegation
from schemas.pages import LinkPage, LinkPageRequest
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import RoundStatus, SubmitInputRequest
from workflows.approval_updates import ApprovalUpdates
from workflows.pages import RoundPages
from workflows.technical_round import TechnicalRound

Req = TypeVar("Req", bound=BaseModel)
Res = TypeVar("Res")

# Errors stay as the SDK raises them: the gateway tells a refusal
# (WorkflowUpdateFailedError), a request that is gone (NOT_FOUND) and Temporal out of reach apart.


async def link_page(client: Client, workflow_id: str, request: LinkPageRequest, *, rpc_timeout: timedelta) -> LinkPage:
    """The page of one link, from the workflow it names (a round, or the consultation for agreement
    links: both answer `link_page` the same way)."""
    handle = client.get_workflow_handle(workflow_id)
    return await handle.query(RoundPages.link_page, request, rpc_timeout=rpc_timeout)


async def round_for_link(client: Client, workflow_id: str, *, rpc_timeout: timedelta) -> RoundStatus:
    handle = client.get_workflow_handle_for(TechnicalRound.run, workflow_id)
    return await handle.query(TechnicalRound.status, rpc_timeout=rpc_timeout)


async def decide_by_link(
    client: Client, workflow_id: str, request: DecisionRequest, *, version: int | None, rpc_timeout: timedelta
) -> DecisionRecord:
    """On the minutes (a round's link) or a draft (the consultation's): both host the same update.
    `version`: the link's, in the id too (a re-issued version may have the same text, and so hash)."""
    name = f"decide-v{version}"
    return await _update_by_link(client, workflow_id, ApprovalUpdates.decide, name, request, rpc_timeout)


async def delegate_by_link(
    client: Client, workflow_id: str, request: DelegateRequest, *, version: int | None, rpc_timeout: timedelta
) -> Delegation:
    name = f"delegate-v{version}"
    return await _update_by_link(client, workflow_id, ApprovalUpdates.delegate, name, request, rpc_timeout)


async def submit_input_by_link(
    client: Client, workflow_id: str, request: SubmitInputRequest, *, after: int | None, rpc_timeout: timedelta
) -> SubmissionRecord:
    """`after`: the party's revision of the pillar the form was opened on, so the same form posted
    again records once, while the same text submitted again later (going back to an earlier input)
    is a new revision; None when the form does not say (it is then deduplicated on its text alone)."""
    name = "submit_input" if after is None else f"submit_input-r{after}"
    return await _update_by_link(client, workflow_id, TechnicalRound.submit_input, name, request, rpc_timeout)


async def _update_by_link(
    client: Client,
    workflow_id: str,
    update: UpdateMethodMultiParam[[Any, Req], Res],
    name: str,
    request: Req,
    rpc_timeout: timedelta,
) -> Res:
    """`name` is the update's, with what scopes the request (the link's version, the form's revision)."""
    handle = client.get_workflow_handle(workflow_id)
    return await handle.execute_update(update, request, id=update_id(name, request), rpc_timeout=rpc_timeout)

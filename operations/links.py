"""What an email link can ask of the workflow it names: read its page, decide, forward, submit an input.

Called by the gateway, with the gateway's own rpc_timeout (a page answers within seconds).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from schemas.approvals import DecisionRecord, DecisionRequest, DelegateRequest, Delegation
from schemas.consultation import ConsultationStatus
from schemas.declaration import Declaration
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import RoundStatus, SubmitInputRequest
from workflows.approval_updates import ApprovalUpdates
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound

Req = TypeVar("Req")
Res = TypeVar("Res")

# Errors stay as the SDK raises them: the gateway tells a refusal
# (WorkflowUpdateFailedError), a request that is gone (NOT_FOUND) and Temporal out of reach apart.


async def declaration_for_link(
    client: Client, workflow_id: str, *, agreement: bool, rpc_timeout: timedelta
) -> Declaration:
    """Who is who, from the workflow the link names: the consultation (agreement links) or its round."""
    if agreement:
        consultation = client.get_workflow_handle_for(Consultation.run, workflow_id)
        return await consultation.query(Consultation.declaration, rpc_timeout=rpc_timeout)
    round_ = client.get_workflow_handle_for(TechnicalRound.run, workflow_id)
    return await round_.query(TechnicalRound.declaration, rpc_timeout=rpc_timeout)


async def agreement_for_link(client: Client, workflow_id: str, *, rpc_timeout: timedelta) -> ConsultationStatus:
    handle = client.get_workflow_handle_for(Consultation.run, workflow_id)
    return await handle.query(Consultation.status, rpc_timeout=rpc_timeout)


async def round_for_link(client: Client, workflow_id: str, *, rpc_timeout: timedelta) -> RoundStatus:
    handle = client.get_workflow_handle_for(TechnicalRound.run, workflow_id)
    return await handle.query(TechnicalRound.status, rpc_timeout=rpc_timeout)


async def decide_by_link(
    client: Client, workflow_id: str, request: DecisionRequest, *, rpc_timeout: timedelta
) -> DecisionRecord:
    """On the minutes (a round's link) or a draft (the consultation's): both host the same update."""
    return await _update_by_link(client, workflow_id, ApprovalUpdates.decide, request, rpc_timeout)


async def delegate_by_link(
    client: Client, workflow_id: str, request: DelegateRequest, *, rpc_timeout: timedelta
) -> Delegation:
    return await _update_by_link(client, workflow_id, ApprovalUpdates.delegate, request, rpc_timeout)


async def submit_input_by_link(
    client: Client, workflow_id: str, request: SubmitInputRequest, *, rpc_timeout: timedelta
) -> SubmissionRecord:
    return await _update_by_link(client, workflow_id, TechnicalRound.submit_input, request, rpc_timeout)


async def _update_by_link(
    client: Client,
    workflow_id: str,
    update: UpdateMethodMultiParam[[Any, Req], Res],
    request: Req,
    rpc_timeout: timedelta,
) -> Res:
    return await client.get_workflow_handle(workflow_id).execute_update(update, request, rpc_timeout=rpc_timeout)

"""The names `operations` addresses workflows by (so that it never imports them) are the workflows' own."""

from __future__ import annotations

from temporalio.workflow import _Definition

from operations import consultations as operations
from schemas.approvals import DecisionRecord
from schemas.consultation import ConsultationStatus, Extension, RoundRecord, Withdrawal
from schemas.documents import DocumentVersion
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import MeetingRescheduled, RoundStatus
from workflows.consultation import Consultation
from workflows.technical_round import TechnicalRound, round_workflow_id


def test_the_operations_name_the_workflows_their_queries_and_updates_as_the_workflows_do() -> None:
    consultation = _Definition.must_from_class(Consultation)
    technical_round = _Definition.must_from_class(TechnicalRound)

    assert consultation.name == operations.CONSULTATION
    assert technical_round.name == operations.TECHNICAL_ROUND
    assert operations.STATUS_QUERY in consultation.queries and operations.STATUS_QUERY in technical_round.queries
    assert consultation.queries[operations.STATUS_QUERY].ret_type is ConsultationStatus
    assert technical_round.queries[operations.STATUS_QUERY].ret_type is RoundStatus
    # The result types `operations` reads each update's answer as.
    consultation_updates = {
        operations.OPEN_ROUND: RoundRecord,
        operations.EXTEND_DEADLINE: Extension,
        operations.WITHDRAW: Withdrawal,
        operations.START_DRAFTING: type(None),
        operations.SUBMIT_DRAFT: DocumentVersion,
        operations.DECIDE: DecisionRecord,
    }
    round_updates = {
        operations.SUBMIT_INPUT: SubmissionRecord,
        operations.CLOSE_ROUND: type(None),
        operations.RESCHEDULE: MeetingRescheduled,
        operations.REISSUE_MINUTES: DocumentVersion,
        operations.DECIDE: DecisionRecord,
    }
    for definition, expected in ((consultation, consultation_updates), (technical_round, round_updates)):
        for name, result_type in expected.items():
            assert definition.updates[name].ret_type is result_type, name
    assert operations.round_workflow_id("consultation-x", 3) == round_workflow_id("consultation-x", 3)

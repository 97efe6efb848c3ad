"""A review of a concluded agreement: one technical round on the agreement's pillars, opened by a Schedule.

Signals: round_progress (from its round, kept for the UI)
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from schemas.reviews import REVIEW_INPUTS_DAYS, REVIEW_MEETING_DAYS, REVIEW_WORKFLOW, ReviewInput
from schemas.rounds import ROUND_PROGRESS_SIGNAL, RoundInput, RoundProgress, RoundStatus
from workflows.technical_round import TechnicalRound, round_workflow_id


@workflow.defn(name=REVIEW_WORKFLOW)
class Review:
    @workflow.init
    def __init__(self, input: ReviewInput) -> None:
        self._progress: RoundProgress | None = None

    @workflow.run
    async def run(self, input: ReviewInput) -> RoundStatus:
        now = workflow.now()
        number = 1
        workflow.set_current_details(
            f"Review round of {input.declaration.id} (agreement `{input.agreement_sha256[:12]}…`)"
        )
        return await workflow.execute_child_workflow(
            TechnicalRound.run,
            RoundInput(
                declaration=input.declaration,
                number=number,
                meeting_at=now + timedelta(days=REVIEW_MEETING_DAYS),
                inputs_due=now + timedelta(days=REVIEW_INPUTS_DAYS),
                pillars=input.pillars,
                opened_by="review schedule",
            ),
            id=round_workflow_id(workflow.info().workflow_id, number),
            static_summary=f"Review round of {input.declaration.id}: {', '.join(p.value for p in input.pillars)}",
        )

    @workflow.signal(name=ROUND_PROGRESS_SIGNAL)
    def round_progress(self, progress: RoundProgress) -> None:
        self._progress = progress

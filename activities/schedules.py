"""The activity that institutionalises a concluded agreement: a Temporal Schedule of review rounds."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from schemas.reviews import REVIEW_WORKFLOW, ReviewScheduleRequest, review_schedule_id

DAYS_PER_MONTH = 30.44  # a Schedule interval is a duration; calendar months drift by a day or two, which is fine here


class Scheduler:
    """Activities that need a Temporal client of their own; the worker hands it one."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="create_review_schedule")
    async def create_review_schedule(self, request: ReviewScheduleRequest) -> str:
        consultation_id = request.review.declaration.id
        schedule_id = review_schedule_id(consultation_id)
        every = timedelta(days=round(DAYS_PER_MONTH * request.every_months))
        # A retried activity finds its schedule already there, which is all that was asked.
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await self._client.create_schedule(
                schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(
                        REVIEW_WORKFLOW,  # by its registered name: activities sit below workflows
                        request.review,
                        id=f"{schedule_id}-run",
                        task_queue=request.task_queue,
                        static_summary=f"Review of the agreement of {consultation_id}",
                    ),
                    spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
                ),
            )
        return schedule_id

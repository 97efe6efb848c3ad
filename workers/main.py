"""Wires the workflows and activities onto the task queue.

`build_worker` is shared by `consult worker`, `consult dev` and the tests, so
every process registers exactly the same things.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    PollerBehaviorSimpleMaximum,
    Worker,
)

from activities.documents import render_minutes
from activities.email import HEARTBEAT_THROTTLE, Mailer
from activities.schedules import Scheduler
from infra import logs
from infra.links import LinkSigner
from infra.settings import Settings, SmtpSettings
from infra.storage import check_storage
from infra.temporal import connect, metrics_runtime
from schemas.base import build_all
from workers.sandbox import workflow_runner
from workflows.consultation import Consultation
from workflows.delivery import NoticeDelivery
from workflows.review import Review
from workflows.technical_round import TechnicalRound

WORKFLOWS = [Consultation, TechnicalRound, Review, NoticeDelivery]


class _BindIds(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity_id=info.activity_id,
            activity_type=info.activity_type,
            attempt=info.attempt,
        ):
            return await super().execute_activity(input)


class LogContext(Interceptor):
    """Binds workflow and activity ids to every log line an activity writes."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindIds(next)


def build_worker(
    client: Client,
    task_queue: str,
    smtp: SmtpSettings,
    links: LinkSigner | None = None,
    gateway_url: str = "",
    *,
    shared_project_code: bool = False,
) -> Worker:
    """`shared_project_code`: the production sandbox (see workers/sandbox.py); tests keep the checked one."""
    build_all()  # the vocabulary's validators, now rather than in a workflow task (schemas/base.py)
    mailer = Mailer(smtp, links, gateway_url, client)
    scheduler = Scheduler(client)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        # send_notice: the one-activity send that consultations started before NoticeDelivery still await.
        # send_message: the per-message send that deliveries started before send_messages still await.
        activities=[
            mailer.send_messages,
            mailer.send_message,
            mailer.send_notice,
            render_minutes,
            scheduler.create_review_schedule,
        ],
        # A batch's progress reaches the server within this of each message (see HEARTBEAT_THROTTLE).
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        interceptors=[LogContext()],
        # 10 workflow-task polls (the SDK's default is 5), half on the task queue itself, not one in five: every
        # workflow's first task is there (consultations, the rounds and deliveries they start), and a round's first
        # task queued behind a single poll kept an operator's `round status` waiting past its timeout under 100
        # lifecycles at once.
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(10),
        nonsticky_to_sticky_poll_ratio=0.5,
        workflow_runner=workflow_runner(shared_project_code=shared_project_code),
    )


async def run(settings: Settings) -> None:
    runtime = metrics_runtime(settings.metrics_port) if settings.metrics_port else None
    client = await connect(settings, runtime)
    # A store that cannot be used is said at start, in one line, not on the first file or large payload.
    await check_storage(client.data_converter.external_storage)
    worker = build_worker(
        client,
        settings.task_queue,
        settings.smtp,
        settings.link_signer(),
        settings.gateway_url,
        shared_project_code=True,
    )
    logs.get_logger(__name__).info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    # What start-up built (modules, models, the sandbox's copies) lives as long as the process: kept out of
    # the cyclic collector's scans, which then run less often, as a worker allocates many short-lived objects
    # per workflow task and message (about 6% of its CPU under load went to collections over the same heap).
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    await worker.run()


if __name__ == "__main__":
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    asyncio.run(run(settings))

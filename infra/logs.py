"""Logging for every process: structlog, console lines in development, JSON lines otherwise.

Standard-library loggers (Temporal's `workflow.logger`, `activity.logger`,
uvicorn) are routed through the same renderer, so one process writes one
format. Activity log lines carry the workflow and activity ids through
structlog's context variables (bound by the worker's interceptor).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from temporalio import activity, workflow


def _lift_temporal_info(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Temporal's loggers attach workflow/activity info as one dict; make its ids plain fields."""
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if isinstance(info, dict):
            for field in ("workflow_id", "run_id", "workflow_run_id", "activity_id", "activity_type", "workflow_type"):
                if field in info:
                    event.setdefault(field, info[field])
    return event


def configure(fmt: str = "console", level: str = "INFO") -> None:
    # The ids travel as fields (below), not appended to the message text.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.ExtraAdder(allow=("temporal_workflow", "temporal_activity")),
        _lift_temporal_info,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The SMTP sink logs every protocol step at INFO; HTTP clients and uvicorn's access log
    # write full URLs, which for link pages carry tokens: keep their warnings only.
    for noisy in ("mail.log", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (test runners and CLIs swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger

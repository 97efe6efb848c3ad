"""The settings spell out what they share with the schemas (so that reading them loads no model)."""

from __future__ import annotations

from infra import settings
from schemas import consultation


def test_the_default_task_queue_is_the_schemas() -> None:
    assert settings.TASK_QUEUE == consultation.TASK_QUEUE
    assert settings.Settings.model_fields["task_queue"].default == consultation.TASK_QUEUE

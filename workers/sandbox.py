"""The workflow sandbox every worker and replayer uses.

Workflow code and its helpers (`workflows.*`, `infra.formatting`) are imported
inside the sandbox, so a helper that reads the clock, the environment or a file
fails the workflow task instead of breaking replay months later. Only what must
be shared is passed through: the vocabulary (`schemas`), the activity interfaces
(`activities`), and third-party libraries the sandbox cannot or need not re-import.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = (
    "schemas",  # pydantic models and constants: plain data, identical in and out of the sandbox
    "activities",  # referenced for their typed method signatures; never run inside a workflow
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "structlog",  # imported by activity modules; calling it in a workflow is still refused
    "jwt",
    "cryptography",
    "jinja2",
    "markupsafe",
    "markdown_it",
    "aiosmtplib",
    "babel",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))

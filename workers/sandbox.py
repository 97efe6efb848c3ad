"""The workflow sandbox every worker and replayer uses, in two strengths.

**Checked** (`workflow_runner()`, the default; the tests, the replayer, `record_histories`):
workflow code and its helpers (`workflows.*`, `infra.*`) are imported inside the sandbox, so
a helper that reads the clock, the environment or a file fails the workflow task instead of
breaking replay months later. Only what must be shared is passed through: the vocabulary
(`schemas`), the activity interfaces (`activities`), and third-party libraries.

**Shared** (`workflow_runner(shared_project_code=True)`: `consult worker` and `consult dev`):
the project's own workflow code is passed through as well. The sandbox re-imports every
module it does not pass through *for each workflow run*: with ~20 project modules that was
most of a worker's memory (1,000 open consultations: +214 MB for 300 checked, +89 MB shared,
measured for issue 11) and of its CPU on every start. The calls a workflow makes through
Temporal's own modules are still restricted at run time; what is no longer caught is a helper
module that reads the clock through its own import, which the checked runs of the whole test
suite (every workflow path, and every recorded history replayed) catch before code ships.
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
# What a production worker shares across runs besides PASSTHROUGH: the project's workflow code.
PROJECT_CODE = ("workflows", "infra")


def workflow_runner(*, shared_project_code: bool = False) -> SandboxedWorkflowRunner:
    modules = PASSTHROUGH + (PROJECT_CODE if shared_project_code else ())
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*modules))

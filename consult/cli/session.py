"""What every `consult` command shares: one session (settings, event loop, Temporal connection) and one
way of turning what went wrong into a message and an exit code.

Exit codes: 0 done; 1 refused or failed (the consultation said no, it does not exist, Temporal is
unreachable, no worker answered); 2 bad input (a file, an option, a date, a setting). Never a traceback
for any of these.

Light to import, like every module of `consult.cli`: the settings, the Temporal SDK and the operations
are imported when a command first needs them, so `consult --help` starts in a fraction of a second. Not
even Typer is imported here: `consult status ID` and `consult list` run without it (`consult.cli.reads`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Self, TypeVar

from rich.console import Console

if TYPE_CHECKING:
    import asyncio

    import typer
    from temporalio.client import Client
    from temporalio.service import RPCError

    from infra.settings import Settings

FAILED = 1
BAD_INPUT = 2

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
T = TypeVar("T")


class Failure(Exception):
    """Something the operator is told in words, and the exit code the command ends with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def print_json(text: str) -> None:
    """Machine output: the JSON as it is, on stdout (Rich's `print_json` parses and highlights it again,
    0.6 s for a thousand rows)."""
    sys.stdout.write(text + "\n")


def tell(message: str) -> None:
    """A failure in words, on stderr, as written (no markup)."""
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def failure_message(error: Exception, session: Session) -> tuple[str, int] | None:
    """The message and exit code for a failure a command could meet, None for anything else (a bug).

    Each kind is looked for only if its module was loaded: a module the command never imported cannot
    have raised it, and none is imported here for nothing.
    """
    if isinstance(error, Failure):
        return str(error), error.code
    if "consult.files" in sys.modules:
        from consult.files import InputFileError

        if isinstance(error, InputFileError):
            return str(error), BAD_INPUT
    if "infra.files" in sys.modules:
        from infra.files import FileRefused, StorageMissing

        if isinstance(error, FileRefused):  # a file of the wrong type by its content, empty, too big
            return f"{error}; nothing was recorded", BAD_INPUT
        if isinstance(error, StorageMissing):
            return str(error), FAILED
    if "operations.files" in sys.modules:
        from operations.files import FileChoiceError

        if isinstance(error, FileChoiceError):  # --drop a file the input does not have
            return f"{error}; nothing was recorded", BAD_INPUT
    if "infra.storage" in sys.modules:
        from infra.storage import storage_problem

        problem = storage_problem(error)  # the file store is out of reach, its bucket missing...
        if problem is not None:
            return problem, FAILED
    if isinstance(error, OSError) and error.filename:  # a path given on the command line (--out, --with-files)
        return f"{error.filename}: {error.strerror or error}", BAD_INPUT
    if "operations.consultations" in sys.modules:
        from operations.consultations import OperationError

        if isinstance(error, OperationError):  # refused, not found, no worker answered
            return str(error), FAILED
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        if isinstance(error, ValidationError):  # a request the schemas refuse (an email, an empty reason...)
            from consult.files import describe_errors

            return "\n".join(describe_errors(error)), BAD_INPUT
    if "temporalio.service" in sys.modules:
        from temporalio.service import RPCError

        if isinstance(error, RPCError):  # Temporal said no to a call no operation words for people
            return _rpc_message(error, session), FAILED
    return None


def _rpc_message(error: RPCError, session: Session) -> str:
    from temporalio.service import RPCStatusCode

    from operations import not_ready

    if not_ready.workflow_not_ready(error):
        return not_ready.MESSAGE
    if error.status == RPCStatusCode.FAILED_PRECONDITION and "no poller seen" in error.message:
        # The server's answer to a query a minute or so after the last worker stopped.
        queue = session.settings.task_queue
        return f"no worker is running for task queue {queue}; start `consult worker` (or `consult dev`)"
    return f"Temporal refused the request ({error.status.name if error.status else 'error'}): {error.message}"


class _LogsOnFirstWarning(logging.Handler):
    """The project's logging (`infra.logs`, structlog) for a command's warnings, set up by the first one:
    most commands log nothing, and importing structlog would be a tenth of what `consult status` takes."""

    def __init__(self, log_format: str) -> None:
        super().__init__(logging.WARNING)
        self._format = log_format

    def emit(self, record: logging.LogRecord) -> None:
        from infra import logs

        logs.configure(self._format, "WARNING")  # replaces this handler on the root logger
        logging.getLogger().handle(record)


class Session:
    """One command's shared state, made by the root callback: the settings (read on first use), one event
    loop for the whole command, and one Temporal connection opened on the first operation."""

    def __init__(self) -> None:
        self._loop: asyncio.Runner | None = None
        self._client: Client | None = None

    @staticmethod
    def of(ctx: typer.Context) -> Session:
        return ctx.ensure_object(Session)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            self._loop.close()

    @cached_property
    def settings(self) -> Settings:
        from pydantic import ValidationError

        from infra.settings import Settings

        try:
            return Settings()
        except ValidationError as error:
            from consult.files import describe_errors

            lines = "\n".join(f"  - {line}" for line in describe_errors(error))
            raise Failure(f"invalid CONSULT_* setting:\n{lines}", BAD_INPUT) from None

    def run(self, operation: Callable[Concatenate[Client, P], Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a client operation (from `operations/`) against Temporal: `session.run(operations.status, id)`."""
        if self._loop is None:
            import asyncio

            self._loop = asyncio.Runner()
        return self._loop.run(self._call(operation, *args, **kwargs))

    async def _call(
        self, operation: Callable[Concatenate[Client, P], Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await operation(await self._connected(), *args, **kwargs)

    async def _connected(self) -> Client:
        if self._client is None:
            from infra.temporal import connect, connect_options

            settings = self.settings
            root = logging.getLogger()
            root.handlers[:] = [_LogsOnFirstWarning(settings.log_format)]
            root.setLevel(logging.WARNING)
            try:
                self._client = await connect(settings)
            except Exception as error:
                options = connect_options(settings)
                raise Failure(
                    f"cannot reach Temporal at {options['target_host']} (namespace {options['namespace']}): "
                    f"{error}\nIs `consult dev` running? Elsewhere, set CONSULT_TEMPORAL_ADDRESS.",
                    FAILED,
                ) from None
        return self._client

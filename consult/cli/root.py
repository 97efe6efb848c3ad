"""`consult`: the operators' command line, one sub-app per noun.

- `consultations` — start, status, list, extend, withdraw, dossier (top-level commands)
- `round`, `input`, `draft`, `agreement` — `consult round ...` and the other command groups
- `services` — worker, gateway, dev: the commands that run the system's processes
- `options` — arguments and options several commands share; `session` — settings, the Temporal
  connection, and failures turned into messages and exit codes (0 done, 1 refused or failed, 2 bad input)

A command reads what the operator typed, calls a client operation from `operations/` through
`Session.run`, and prints the result; what a consultation does is never decided here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import NoReturn

import typer

from consult.cli import agreement, consultations, draft, services
from consult.cli import input as input_
from consult.cli import round as round_
from consult.cli.session import ReportingGroup, Session

app = typer.Typer(
    cls=ReportingGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(
    epilog="Who is acting: commands that record something need --by EMAIL, or CONSULT_OPERATOR set once per shell.\n"
    "Exit codes: 0 done; 1 refused or failed (the consultation says why, it does not exist, Temporal is "
    "unreachable); 2 bad input (a file, an option, a date).\n"
    "consult COMMAND --help explains a command's options; many show an example.",
)
def _session(ctx: typer.Context) -> None:
    """Run intergovernmental consultations: from a signed declaration to a definitive agreement."""
    ctx.obj = ctx.with_resource(Session())


ROUNDS = "Rounds and the agreement"
app.add_typer(consultations.app)
app.add_typer(round_.app, name="round", rich_help_panel=ROUNDS)
app.add_typer(input_.app, name="input", rich_help_panel=ROUNDS)
app.add_typer(agreement.app, name="agreement", rich_help_panel=ROUNDS)
app.add_typer(draft.app, name="draft", rich_help_panel=ROUNDS)
app.add_typer(services.app)


def main() -> NoReturn:
    """The `consult` console script: run the command, then leave at once with its exit code.

    The SDK's Rust runtime keeps threads that can outlive Python's own teardown and abort it
    (`Fatal Python error: PyGILState_Release`, exit 134; temporalio sdk-python issue 300), after the
    command has done its work. So nothing is left to teardown: the command has finished (its `with`
    blocks closed, the Temporal session's loop too), what it printed is flushed, and `os._exit` ends
    the process with the code the command chose. Tests call `app` through Typer's runner instead.
    """
    try:
        app()
        code = 0
    except SystemExit as exit_:  # how click ends every command, successful or not
        code = _exit_code(exit_.code)
    except BaseException:  # a bug: say it as Python would, then leave the same way
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`consult status ID | head -1`)
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")  # sys.exit("message") prints it and exits 1
    return 1

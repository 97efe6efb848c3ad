"""`consult`: the operators' command line, one sub-app per noun.

- `root` — the Typer app: the root group, where failures become messages and exit codes
- `consultations` — start, status, list, extend, withdraw, dossier (top-level commands)
- `round`, `input`, `draft`, `agreement` — `consult round ...` and the other command groups
- `services` — worker, gateway, dev: the commands that run the system's processes
- `options` — arguments and options several commands share; `session` — settings, the Temporal
  connection, and failures turned into messages and exit codes (0 done, 1 refused or failed, 2 bad input)
- `reads` — what `consult status` and `consult list` do, which the console script runs without Typer
  in their plain forms (`consult status ID [--json]`, `consult list [--json]`)

A command reads what the operator typed, calls a client operation from `operations/` through
`Session.run`, and prints the result; what a consultation does is never decided here.

`consult.cli.app` is the Typer app (tests invoke it); it is loaded on first use, so that the console
script can start a plain read without Typer and the other commands.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from consult.cli.root import app

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from consult.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> NoReturn:
    """The `consult` console script: run the command, then leave at once with its exit code.

    The SDK's Rust runtime keeps threads that can outlive Python's own teardown and abort it
    (`Fatal Python error: PyGILState_Release`, exit 134; temporalio sdk-python issue 300), after the
    command has done its work. So nothing is left to teardown: the command has finished (its `with`
    blocks closed, the Temporal session's loop too), what it printed is flushed, and `os._exit` ends
    the process with the code the command chose. Tests call `app` through Typer's runner instead.
    """
    from consult.cli.reads import plain_read, run_plain

    try:
        read = plain_read(sys.argv[1:])
        if read is not None:
            code = run_plain(read)
        else:
            from consult.cli.root import app

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

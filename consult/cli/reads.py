"""What `consult status` and `consult list` do, apart from Typer: the commands call these, and so does the
console script (`consult.cli.main`) for their plain forms, without loading Typer and every other command.

`consult status ID [--json]` and `consult list [--json]` are what operators and scripts run most, and
their time is mostly start-up: run this way, they load the Temporal SDK, the settings, what they read and
Rich, and none of the rest (Typer, click, the other commands' options). Anything else they are given
(`--help`, `--stage`, an id that looks like an option) goes through Typer as before.
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable

from consult.cli.session import Session, failure_message, out, print_json, tell

Read = Callable[[Session], None]


def status(session: Session, consultation: str, as_json: bool) -> None:
    from operations import consultations as operations

    result = session.run(operations.status, consultation)
    if as_json:
        print_json(result.model_dump_json(indent=2))
    else:
        from consult.views import show_status

        show_status(out, result)


def listing(session: Session, stage: str | None, overdue: bool, as_json: bool) -> None:
    """The consultations (in `stage`, overdue ones), and the review schedules when no filter is given."""
    from operations import listing as operations

    rows, schedules = session.run(operations.listing, stage=stage, overdue=overdue)
    if as_json:
        print_json(json.dumps(rows + schedules))
    else:
        from consult.views import show_listing, show_schedules

        show_listing(out, rows)
        show_schedules(out, schedules)


def plain_read(args: list[str]) -> Read | None:
    """The read `args` (the command line after `consult`) asks for when it is a plain one, else None."""
    match args:
        case ["list"] | ["list", "--json"]:
            as_json = len(args) == 2
            return lambda session: listing(session, None, False, as_json)
        case (
            ["status", str(consultation)]
            | ["status", str(consultation), "--json"]
            | [
                "status",
                "--json",
                str(consultation),
            ]
        ) if consultation.strip() and not consultation.startswith("-"):
            as_json = len(args) == 3
            return lambda session: status(session, consultation.strip(), as_json)
    return None


def run_plain(read: Read) -> int:
    """Run a plain read as Typer would run the command: a failure said in words on stderr with its exit code
    (`consult.cli.session.failure_message`), Ctrl-C as "Aborted!", a closed stdout as exit 1; the exit code."""
    # A read ends in a moment: the garbage collector would only slow down start-up (pydantic's models).
    import gc

    gc.disable()
    try:
        with Session() as session:
            try:
                read(session)
            except Exception as error:
                told = failure_message(error, session)
                if told is None:
                    raise
                tell(told[0])
                return told[1]
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")
        return 1
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        return 1  # what was read went to a pipe closed early (`consult list | head -1`): as click does
    return 0

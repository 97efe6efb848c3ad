"""The `consult` Typer app: the root group, and every command and command group in it.

Loaded for every command but the plain reads `consult status ID` and `consult list` (see `consult.cli.main`).
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from consult.cli import agreement, consultations, draft, services
from consult.cli import input as input_
from consult.cli import round as round_
from consult.cli.session import Session, failure_message, tell


class ReportingGroup(TyperGroup):
    """The root command group. Every command and sub-group runs inside its `invoke`, so this is the one
    place where a foreseeable failure, from any command, becomes a message on stderr and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # the declared base type is private
        try:
            return super().invoke(ctx)
        except Exception as error:
            told = failure_message(error, Session.of(ctx))
            if told is None:
                raise
            _exit(*told)


def _exit(message: str, code: int) -> NoReturn:
    tell(message)
    raise typer.Exit(code)


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

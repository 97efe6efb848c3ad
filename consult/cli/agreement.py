"""`consult agreement ...`: moving from the technical rounds to the definitive agreement."""

from __future__ import annotations

import typer

from consult.cli.options import ConsultationId, Operator
from consult.cli.session import Session, out

app = typer.Typer(no_args_is_help=True, help="The definitive agreement: end the rounds and start drafting it.")


@app.command("start")
def start(ctx: typer.Context, consultation: ConsultationId, by: Operator = "") -> None:
    """End the technical rounds and start drafting the agreement (then `consult draft submit`)."""
    from operations import consultations as operations
    from schemas.consultation import StartDraftingRequest

    Session.of(ctx).run(operations.start_drafting, consultation, StartDraftingRequest(requested_by=by))
    out.print("Stage: drafting_agreement.")

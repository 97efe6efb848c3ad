"""`consult input ...`: a party's pillar inputs to the open round, submitted on its behalf."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.cli.options import ConsultationId, Operator, PillarChoice
from consult.cli.session import Session, out

app = typer.Typer(no_args_is_help=True, help="Pillar inputs to the open round, submitted on a party's behalf.")


@app.command(
    "submit",
    epilog="Example: consult input submit ID examples/inputs/cl-financing.yaml --party CL --pillar financing",
)
def submit(
    ctx: typer.Context,
    consultation: ConsultationId,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The input: summary, items (and author), in YAML or JSON.")
    ],
    party: Annotated[str, typer.Option(metavar="CODE", help="The party the input is from, e.g. CL.")],
    pillar: Annotated[PillarChoice, typer.Option(help="The pillar it answers.")],
    author: Annotated[
        str | None,
        typer.Option(metavar="EMAIL", help="The technical lead who wrote it (default: the file's `author`)."),
    ] = None,
    by: Operator = "",
) -> None:
    """Submit a party's input on one pillar to the open round, on its behalf.

    A later submission for the same party and pillar replaces it; the earlier
    one stays in the record. examples/inputs/ has a file for each pillar.
    """
    from consult.files import load_pillar_input
    from operations import consultations as operations
    from schemas.declaration import Pillar
    from schemas.rounds import SubmitInputRequest

    item = load_pillar_input(file, party=party.strip().upper(), pillar=Pillar(pillar.value), author=author)
    request = SubmitInputRequest(input=item, submitted_by=by)
    record = Session.of(ctx).run(operations.submit_input, consultation, request)
    out.print(f"Recorded {record.input.party}/{record.input.pillar.value}, revision {record.revision}.")

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
    epilog="Example: consult input submit ID examples/inputs/cl-financing.yaml --party CL --pillar financing "
    "--attach position-paper.pdf --attach projects.xlsx",
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
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            metavar="FILE",
            help="A file to attach (repeat for more; PDF, DOCX, XLSX, ODT, ODS, CSV, PNG, JPEG; up to 25 MiB).",
        ),
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option(
            "--drop",
            metavar="NAME_OR_SHA256",
            help="A file of the party's current input on this pillar not to keep (repeat for more).",
        ),
    ] = None,
    by: Operator = "",
) -> None:
    """Submit a party's input on one pillar to the open round, on its behalf.

    A later submission for the same party and pillar replaces it; the earlier
    one stays in the record. It keeps the earlier one's attached files unless
    --drop names them. examples/inputs/ has a file for each pillar.
    """
    import hashlib

    from consult.cli.options import attach_files, describe_files, store_files
    from consult.files import load_pillar_input
    from operations import consultations as operations
    from operations import files
    from schemas.declaration import Pillar
    from schemas.rounds import SubmitInputRequest

    item = load_pillar_input(file, party=party.strip().upper(), pillar=Pillar(pillar.value), author=author)
    attached = attach_files(attach, "--attach")  # read and checked: a bad file stops here
    session = Session.of(ctx)
    # The files of the input it replaces are kept unless dropped (or attached again).
    current = session.run(files.current_input, consultation, item.party, item.pillar.value)
    keep = files.to_keep(current, drop or [], (hashlib.sha256(data).hexdigest() for _, data in attached))
    records = store_files(session, attached, by)
    request = SubmitInputRequest(input=item.model_copy(update={"attachments": records}), submitted_by=by, keep=keep)
    record = session.run(operations.submit_input, consultation, request)
    kept = len(record.input.attachments) - len(records)
    out.print(
        f"Recorded {record.input.party}/{record.input.pillar.value}, revision {record.revision}"
        + (f", with {len(record.input.attachments)} file(s) ({kept} kept):" if record.input.attachments else ".")
        + describe_files(record.input.attachments),
        markup=False,
        highlight=False,
    )

"""`consult draft ...`: versions of the agreement, and approvers' decisions on them."""

from __future__ import annotations

from typing import Annotated

import typer

from consult.cli.options import (
    Annexes,
    Approver,
    ConsultationId,
    DecisionChoice,
    EnglishText,
    Operator,
    SpanishText,
    attach_files,
    listed_annexes,
    read_documents,
    store_files,
)
from consult.cli.session import Session, out

app = typer.Typer(no_args_is_help=True, help="Agreement drafts: submit versions, record approvers' decisions.")


@app.command(
    "submit",
    epilog="Example:\n"
    "consult draft submit ID --en examples/agreement/draft-v1.en.md --es examples/agreement/draft-v1.es.md",
)
def submit(
    ctx: typer.Context,
    consultation: ConsultationId,
    en: EnglishText = None,
    es: SpanishText = None,
    annex: Annexes = None,
    by: Operator = "",
) -> None:
    """Submit the next version of the agreement, with its annexes.

    Every approver receives it (with a diff from the previous version) and a
    link to decide. Its SHA-256 covers the text and the annexes; a version
    carries the annexes given with it (give them again with the next one).
    """
    from operations import consultations as operations
    from schemas.consultation import SubmitDraftRequest

    documents = read_documents(en, es)
    attached = attach_files(annex, "--annex")
    session = Session.of(ctx)
    request = SubmitDraftRequest(documents=documents, requested_by=by, annexes=store_files(session, attached, by))
    draft = session.run(operations.submit_draft, consultation, request)
    out.print(
        f"Draft version {draft.version} submitted (SHA-256 {draft.sha256}); sent to every approver."
        + listed_annexes(draft.annexes),
        markup=False,
        highlight=False,
    )


@app.command("decide")
def decide(
    ctx: typer.Context,
    consultation: ConsultationId,
    approver: Approver,
    decision: Annotated[DecisionChoice, typer.Option(help="approve, request_changes or decline.")],
    comment: Annotated[str, typer.Option(help="Required to request changes or decline.")] = "",
    by: Operator = "",
) -> None:
    """Record an approver's decision on the current draft, on their behalf.

    It is recorded against the SHA-256 of the version current now.
    The agreement is concluded when every party approves; a party that
    declines ends it.
    """
    from operations import consultations as operations
    from schemas.approvals import Decision

    on_behalf = operations.DecisionOnBehalf(approver, Decision(decision.value), recorded_by=by, comment=comment)
    record = Session.of(ctx).run(operations.decide_current_draft, consultation, on_behalf)
    out.print(f"Recorded: {record.approver_name} ({record.party}) {record.decision.value} v{record.version}.")

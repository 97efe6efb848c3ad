"""The `link_page` query: what the page behind one email link needs, and nothing more.

The gateway used to read the whole declaration and the whole status (every document version in
every language, every notice) to show one page. Here the workflow that owns the link answers with
the page's own facts (`schemas.pages.LinkPage`): its reader, and either the approval of the link's
version (the document in the reader's language only) or the reader's party's inputs.

The builders are pure functions of a workflow's state, tested without Temporal; `RoundPages` and
`ConsultationPages` are the query, mixed into `TechnicalRound` and `Consultation` (the SDK registers
a query a workflow class inherits as its own). A query writes nothing to history: running workflows
answer it as soon as their worker runs this code, with no patch.

Files have two queries of their own, on the same classes: `file_page` (one file link: the file, if
it is where the link says, for a reader in the consultation) and `document_files` (what a notice
about a minutes or draft version lists: its annexes and, for minutes, the files of the inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from temporalio import workflow

from infra.formatting import display_tz, offset_minutes
from schemas.annexes import FileRecord
from schemas.approvals import Decision, DecisionRecord, Delegation, Outcome
from schemas.consultation import Stage
from schemas.declaration import Declaration, Locale, Pillar, Role
from schemas.documents import DocumentVersion
from schemas.links import FileLocation, LinkPurpose
from schemas.pages import (
    DOCUMENT_FILES_QUERY,
    ApprovalPage,
    Colleague,
    DocumentFiles,
    DocumentFilesRequest,
    FilePage,
    FileRequest,
    InputFiles,
    InputPage,
    LinkPage,
    LinkPageRequest,
    PageDocument,
    PageReader,
    PillarRevision,
)
from schemas.pillar_inputs import SubmissionRecord
from schemas.rounds import RoundInput, RoundState
from workflows.approval import ApprovalStep

MINUTES_DECISIONS = [Decision.APPROVE, Decision.REQUEST_CHANGES]
AGREEMENT_DECISIONS = [Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.DECLINE]


class Approving(Protocol):
    """What a page reads of an approval step (workflows.approval.ApprovalStep)."""

    document: DocumentVersion
    deadline: datetime
    delegations: list[Delegation]

    @property
    def outcome(self) -> Outcome: ...


def reader_of(declaration: Declaration, recipient: str) -> PageReader | None:
    for party in declaration.parties:
        for person in party.counterparts:
            if person.email == recipient:
                return PageReader(
                    email=person.email,
                    name=person.name,
                    locale=person.locale,
                    party=party.code,
                    party_name=party.name,
                    roles=list(person.roles),
                )
    return None


def in_language(document: DocumentVersion, locale: Locale) -> PageDocument:
    """The document in the reader's language, or else in the first language it was written in."""
    shown = locale if document.documents.get(locale) else next(iter(document.documents))
    return PageDocument(
        version=document.version,
        sha256=document.sha256,
        locale=shown,
        text=document.documents[shown],
        annexes=list(document.annexes),
    )


def approval_page(
    declaration: Declaration,
    reader: PageReader,
    version: int | None,
    *,
    round_number: int | None,
    open: bool,
    state: str,
    allowed: list[Decision],
    approval: Approving | None,
    decisions: Sequence[DecisionRecord],
    input_files: Sequence[InputFiles] = (),
) -> ApprovalPage:
    """The approval of the link's `version` as `reader` sees it; the document only while it awaits them."""
    page = ApprovalPage(round_number=round_number, open=open, state=state, allowed=allowed)
    if approval is None:
        return page
    delegated_by = next((d for d in approval.delegations if d.delegate == reader.email), None)
    acting_for = delegated_by.approver if delegated_by else reader.email
    earlier = next((d for d in decisions if d.version == version and d.approver == acting_for), None)
    current = approval.document
    outcome = approval.outcome
    awaiting = earlier is None and current.version == version and outcome is Outcome.PENDING and open
    colleagues: list[Colleague] = []
    if awaiting and delegated_by is None:
        party = declaration.party(reader.party)
        approvers = {c.email for c in party.with_role(Role.APPROVER)} if party else set()
        forwarded = any(d.approver == reader.email for d in approval.delegations)
        if party and reader.email in approvers and not forwarded:
            colleagues = [Colleague(name=c.name, email=c.email) for c in party.counterparts if c.email not in approvers]
    return page.model_copy(
        update={
            "version": current.version,
            "sha256": current.sha256,
            "deadline": approval.deadline,
            "outcome": outcome,
            "earlier": earlier,
            "delegated_by": delegated_by,
            "colleagues": colleagues,
            "document": in_language(current, reader.locale) if awaiting else None,
            "input_files": list(input_files) if awaiting else [],
        }
    )


def input_page(
    reader: PageReader,
    pillar: Pillar | None,
    *,
    round_number: int,
    collecting: bool,
    pillars: Sequence[Pillar],
    inputs_due: datetime,
    submissions: Sequence[SubmissionRecord],
) -> InputPage:
    """The round's inputs as the reader's party sees them: its own current revisions, and its current
    input on `pillar` (the form being opened) to start from."""
    own = [s for s in submissions if s.superseded_at is None and s.input.party == reader.party]
    return InputPage(
        round_number=round_number,
        collecting=collecting,
        pillars=list(pillars),
        inputs_due=inputs_due,
        submitted={s.input.pillar: PillarRevision(revision=s.revision, submitted_at=s.submitted_at) for s in own},
        current=next((s.input for s in own if s.input.pillar is pillar), None) if pillar else None,
    )


def inputs_files(declaration: Declaration, submissions: Sequence[SubmissionRecord]) -> list[InputFiles]:
    """The files of every party's current input, by party and pillar (inputs without files left out)."""
    names = {p.code: p.name for p in declaration.parties}
    return [
        InputFiles(
            party=s.input.party,
            party_name=names.get(s.input.party, s.input.party),
            pillar=s.input.pillar,
            revision=s.revision,
            files=list(s.input.attachments),
        )
        for s in submissions
        if s.superseded_at is None and s.input.attachments
    ]


def file_reader(declaration: Declaration, recipient: str) -> PageReader | None:
    """Who reads a file link: a counterpart, or a secretariat (they receive the minutes and drafts too)."""
    reader = reader_of(declaration, recipient)
    if reader is not None:
        return reader
    for operator in declaration.operators:
        if operator.email == recipient:
            name = operator.name or operator.email
            return PageReader(
                email=operator.email, name=name, locale=operator.locale, party="", party_name="", roles=[]
            )
    return None


def find_file(
    versions: Sequence[DocumentVersion], submissions: Sequence[SubmissionRecord], sha256: str, where: FileLocation
) -> FileRecord | None:
    """The file with this SHA-256 where a link says it is: a version's annexes, or one input revision's files."""
    if where.version is not None:
        files = next((list(v.annexes) for v in versions if v.version == where.version), [])
    else:
        files = next(
            (
                list(s.input.attachments)
                for s in submissions
                if (s.input.party, s.input.pillar, s.revision) == (where.party, where.pillar, where.revision)
            ),
            [],
        )
    return next((f for f in files if f.sha256 == sha256), None)


def file_page(
    declaration: Declaration,
    request: FileRequest,
    versions: Sequence[DocumentVersion],
    submissions: Sequence[SubmissionRecord] = (),
) -> FilePage:
    """One file link's answer: the file only for a reader in the consultation, and only where the link says."""
    reader = file_reader(declaration, request.recipient)
    page = FilePage(title=declaration.title, operators=[o.email for o in declaration.operators], reader=reader)
    if reader is None:
        return page
    return page.model_copy(update={"file": find_file(versions, submissions, request.sha256, request.where)})


def document_files(
    declaration: Declaration,
    versions: Sequence[DocumentVersion],
    request: DocumentFilesRequest,
    submissions: Sequence[SubmissionRecord] | None = None,
) -> DocumentFiles:
    """The files a notice about `request.version` lists; `submissions` for minutes (their inputs' files)."""
    version = next((v for v in versions if v.version == request.version), None)
    if version is None:
        return DocumentFiles(version=request.version)
    return DocumentFiles(
        version=version.version,
        sha256=version.sha256,
        annexes=list(version.annexes),
        inputs=inputs_files(declaration, submissions) if submissions is not None else [],
    )


def page_of(declaration: Declaration, request: LinkPageRequest) -> LinkPage:
    """What every page has: the consultation's title, zone and operators, and its reader (None: not in it)."""
    return LinkPage(
        title=declaration.title,
        utc_offset_minutes=offset_minutes(display_tz(declaration.signed_at)),
        operators=[o.email for o in declaration.operators],
        reader=reader_of(declaration, request.recipient),
    )


class RoundPages:
    """`link_page` on a technical round: minutes approval links and pillar-input links."""

    _declaration: Declaration
    _input: RoundInput
    _state: RoundState
    _inputs_closed_at: datetime | None
    _inputs_due: datetime
    _submissions: list[SubmissionRecord]
    _minutes: list[DocumentVersion]
    _approval: ApprovalStep | None
    _decisions: list[DecisionRecord]

    @workflow.query
    def link_page(self, request: LinkPageRequest) -> LinkPage:
        page = page_of(self._declaration, request)
        reader = page.reader
        if reader is None:
            return page
        if request.purpose is LinkPurpose.MINUTES_APPROVAL:
            approval = approval_page(
                self._declaration,
                reader,
                request.version,
                round_number=self._input.number,
                open=self._state is RoundState.MINUTES_APPROVAL,
                state=self._state.value,
                allowed=MINUTES_DECISIONS,
                approval=self._approval,
                decisions=self._decisions,
                input_files=inputs_files(self._declaration, self._submissions),
            )
            return page.model_copy(update={"approval": approval})
        if request.purpose is LinkPurpose.PILLAR_INPUT:
            inputs = input_page(
                reader,
                request.pillar,
                round_number=self._input.number,
                collecting=self._state is RoundState.COLLECTING and self._inputs_closed_at is None,
                pillars=self._input.pillars,
                inputs_due=self._inputs_due,
                submissions=self._submissions,
            )
            return page.model_copy(update={"inputs": inputs})
        return page

    @workflow.query
    def file_page(self, request: FileRequest) -> FilePage:
        return file_page(self._declaration, request, self._minutes, self._submissions)

    @workflow.query(name=DOCUMENT_FILES_QUERY)
    def document_files(self, request: DocumentFilesRequest) -> DocumentFiles:
        return document_files(self._declaration, self._minutes, request, self._submissions)


class ConsultationPages:
    """`link_page` on a consultation: agreement draft approval links."""

    _declaration: Declaration
    _stage: Stage
    _drafts: list[DocumentVersion]
    _approval: ApprovalStep | None
    _agreement_decisions: list[DecisionRecord]

    @workflow.query
    def link_page(self, request: LinkPageRequest) -> LinkPage:
        page = page_of(self._declaration, request)
        reader = page.reader
        if reader is None or request.purpose is not LinkPurpose.AGREEMENT_APPROVAL:
            return page
        approval = approval_page(
            self._declaration,
            reader,
            request.version,
            round_number=None,
            open=self._stage is Stage.AWAITING_APPROVAL,
            state=self._stage.value,
            allowed=AGREEMENT_DECISIONS,
            approval=self._approval,
            decisions=self._agreement_decisions,
        )
        return page.model_copy(update={"approval": approval})

    @workflow.query
    def file_page(self, request: FileRequest) -> FilePage:
        return file_page(self._declaration, request, self._drafts)

    @workflow.query(name=DOCUMENT_FILES_QUERY)
    def document_files(self, request: DocumentFilesRequest) -> DocumentFiles:
        return document_files(self._declaration, self._drafts, request)

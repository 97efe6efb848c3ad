"""The reusable approval step: every party's approvers decide on one version of a document.

Runs inside the workflow that owns the document (a round for its minutes, the
consultation for agreement drafts). The owner's update handler calls `check`
(from its validator) and `record`; the owner's main coroutine awaits `run`,
which sends the requests, runs the step's own clock (reminders to those who
have not decided, escalation at the deadline) and returns the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

from infra.formatting import fmt
from schemas.approvals import (
    ApprovalState,
    Decision,
    DecisionRecord,
    DecisionRequest,
    DelegateRequest,
    Delegation,
    Outcome,
)
from schemas.declaration import Counterpart, Declaration, Locale, Party, Role
from schemas.documents import DocumentVersion
from schemas.links import LINK_GRACE, LinkPurpose, LinkSpec
from schemas.notices import NoticeFacts, NoticeKind
from schemas.pillar_inputs import Channel
from schemas.working_days import Counting, WorkingCalendar, add
from workflows import quorum, rules
from workflows.notifier import Notifier
from workflows.rules import ClockEventKind, RequestRefused
from workflows.timing import wait_until


class ApprovalStep:
    def __init__(
        self,
        *,
        subject: str,
        document: DocumentVersion,
        declaration: Declaration,
        notifier: Notifier,
        allowed: tuple[Decision, ...] = (Decision.APPROVE, Decision.REQUEST_CHANGES),
        not_before: datetime | None = None,
        previous: DocumentVersion | None = None,
        on_change: Callable[[], None] = lambda: None,
        link_purpose: LinkPurpose | None = None,
        round_number: int = 0,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self.subject = subject
        self.document = document
        self._declaration = declaration
        self._notifier = notifier
        self._allowed = allowed
        self._on_change = on_change
        self._previous = previous
        self._link_purpose = link_purpose
        self._round_number = round_number
        # Approvers get their full window, counted from the meeting when it is still ahead.
        start = max(workflow.now(), not_before) if not_before else workflow.now()
        window = declaration.approval_window
        self._calendar = calendar
        self.deadline: datetime = add(calendar, start, window.days, window.count)
        # Said in the notices when the declaration writes how the window is counted.
        self._counting = (
            Counting(days=window.days, count=window.count, calendars=calendar.calendars if calendar else [])
            if declaration.approval_within
            else None
        )
        self.overdue = False
        self.decisions: list[DecisionRecord] = []
        self.delegations: list[Delegation] = []
        self._delegations_notified = 0

    # --- decisions -------------------------------------------------------------------

    def party_outcomes(self) -> dict[str, Outcome]:
        return {
            p.code: quorum.party_outcome(
                p.approval,
                [c.email for c in p.with_role(Role.APPROVER)],
                [d for d in self.decisions if d.party == p.code],
            )
            for p in self._declaration.parties
        }

    def comments(self) -> list[str]:
        """Each decision's comment, signed with its approver and party: what the operators are sent back."""
        return [f"{d.approver_name} ({d.party}): {d.comment}" for d in self.decisions if d.comment]

    @property
    def outcome(self) -> Outcome:
        return quorum.overall_outcome(self.party_outcomes().values())

    def _acting_for(self, who: str) -> tuple[Party, Counterpart, Counterpart | None] | None:
        """(party, approver, delegate): whose decision `who` may take, its own or by delegation."""
        for party in self._declaration.parties:
            for approver in party.with_role(Role.APPROVER):
                if approver.email == who:
                    return party, approver, None
        delegation = next((d for d in self.delegations if d.delegate == who), None)
        if delegation is None:
            return None
        party = next(p for p in self._declaration.parties if p.code == delegation.party)
        approver = next(c for c in party.counterparts if c.email == delegation.approver)
        delegate = next(c for c in party.counterparts if c.email == who)
        return party, approver, delegate

    def check(self, request: DecisionRequest) -> None:
        """Refuses (RequestRefused) a decision that must not be recorded, saying why."""
        acting = self._acting_for(request.approver)
        if acting is None:
            raise RequestRefused(f"{request.approver} is not an approver in this consultation")
        party, approver, delegate = acting
        who = approver.email
        self._check_sender(request.channel, request.recorded_by, (delegate or approver).email)
        if not request.sha256 and request.channel is not Channel.OPERATOR:
            raise RequestRefused("a decision through a link must name the version it is on")
        if request.sha256 and request.sha256 != self.document.sha256:
            raise RequestRefused(
                f"that decision is on another version; the current {self.subject} is version "
                f"{self.document.version} (SHA-256 {self.document.sha256})"
            )
        earlier = next((d for d in self.decisions if d.approver == who), None)
        if earlier is not None:
            raise RequestRefused(
                f"already recorded on {fmt(earlier.at, self._notifier.tz)} by {earlier.approver_name}: "
                f"{earlier.decision.value}"
            )
        if self.outcome is not Outcome.PENDING:
            raise RequestRefused(
                f"the decision on version {self.document.version} is already made: {self.outcome.value}"
            )
        if self.party_outcomes()[party.code] is Outcome.APPROVED:
            raise RequestRefused(f"party {party.code} has already approved version {self.document.version}")
        if request.decision not in self._allowed:
            raise RequestRefused(f"{request.decision.value} is not a possible decision on the {self.subject}")
        if request.decision is not Decision.APPROVE and not request.comment.strip():
            raise RequestRefused(f"{request.decision.value} needs a comment saying why")

    def record(self, request: DecisionRequest) -> DecisionRecord:
        acting = self._acting_for(request.approver)
        assert acting is not None  # guaranteed by check()
        party, person, delegate = acting
        record = DecisionRecord(
            party=party.code,
            approver=person.email,
            approver_name=person.name,
            delegate=delegate.email if delegate else None,
            delegate_name=delegate.name if delegate else None,
            decision=request.decision,
            comment=request.comment.strip(),
            version=self.document.version,
            sha256=self.document.sha256,
            channel=request.channel,
            recorded_by=request.recorded_by,
            at=workflow.now(),
        )
        self.decisions.append(record)
        return record

    def _check_sender(self, channel: Channel, recorded_by: str, person: str) -> None:
        """An operator records on someone's behalf; through a link, only that person acts."""
        if channel is Channel.OPERATOR:
            rules.check_operator(self._declaration, recorded_by)
        elif recorded_by != person:
            raise RequestRefused("a decision sent through a link must come from its recipient")

    def check_delegation(self, request: DelegateRequest) -> None:
        who = request.approver
        self._check_sender(request.channel, request.recorded_by, who)
        acting = self._acting_for(who)
        if acting is None or acting[2] is not None:
            raise RequestRefused(f"{request.approver} is not an approver in this consultation")
        party, approver, _ = acting
        if self.outcome is not Outcome.PENDING:
            raise RequestRefused(
                f"the decision on version {self.document.version} is already made: {self.outcome.value}"
            )
        if any(d.approver == who for d in self.decisions):
            raise RequestRefused(f"{approver.name} has already decided on version {self.document.version}")
        delegate = request.delegate
        colleague = next((c for c in party.counterparts if c.email == delegate), None)
        if colleague is None or delegate == who:
            others = ", ".join(c.email for c in party.counterparts if c.email != who)
            raise RequestRefused(f"{request.delegate} is not a colleague in party {party.code} (colleagues: {others})")
        if Role.APPROVER in colleague.roles:
            raise RequestRefused(f"{colleague.name} is an approver already; forward to a colleague who is not")
        if any(d.delegate == delegate for d in self.delegations):
            raise RequestRefused(f"{colleague.name} already decides for someone on this version")
        if any(d.approver == who for d in self.delegations):
            raise RequestRefused(f"{approver.name} has already forwarded this decision")

    def record_delegation(self, request: DelegateRequest) -> Delegation:
        acting = self._acting_for(request.approver)
        assert acting is not None  # guaranteed by check_delegation()
        party, approver, _ = acting
        delegate = next(c for c in party.counterparts if c.email == request.delegate)
        delegation = Delegation(
            party=party.code,
            approver=approver.email,
            approver_name=approver.name,
            delegate=delegate.email,
            delegate_name=delegate.name,
            version=self.document.version,
            channel=request.channel,
            recorded_by=request.recorded_by,
            at=workflow.now(),
        )
        self.delegations.append(delegation)
        self._on_change()
        return delegation

    async def _notify_delegates(self) -> None:
        """Each delegate gets the document and a link of their own."""
        while True:
            await workflow.wait_condition(lambda: len(self.delegations) > self._delegations_notified)
            delegation = self.delegations[self._delegations_notified]
            recipients = [r for r in self._notifier.counterparts() if r.email == delegation.delegate]
            await self._notifier.send(
                NoticeKind.DELEGATED,
                recipients,
                self._facts(documents=self.document.documents, actor=delegation.approver_name),
            )
            self._delegations_notified += 1

    def state(self) -> ApprovalState:
        return ApprovalState(
            subject=self.subject,
            version=self.document.version,
            sha256=self.document.sha256,
            deadline=self.deadline,
            overdue=self.overdue,
            outcome=self.outcome,
            parties=self.party_outcomes(),
            decisions=list(self.decisions),
            delegations=list(self.delegations),
        )

    def _link(self) -> LinkSpec | None:
        if self._link_purpose is None:
            return None
        return LinkSpec(
            purpose=self._link_purpose,
            workflow_id=workflow.info().workflow_id,
            consultation_id=self._declaration.id,
            round_number=self._round_number,
            version=self.document.version,
            sha256=self.document.sha256,
            expires_at=self.deadline + LINK_GRACE,
        )

    def _facts(
        self,
        *,
        with_link: bool = True,
        documents: dict[Locale, str] | None = None,
        previous_documents: dict[Locale, str] | None = None,
        days_left: int | None = None,
        missing: list[str] | None = None,
        actor: str | None = None,
    ) -> NoticeFacts:
        """What every notice of this step says (the version, its hash, the deadline, the link), and more."""
        return NoticeFacts(
            round_number=self._round_number or None,
            subject=self.subject,
            version=self.document.version,
            sha256=self.document.sha256,
            deadline=self.deadline,
            counting=self._counting,
            link=self._link() if with_link else None,
            documents=documents or {},
            previous_documents=previous_documents or {},
            days_left=days_left,
            missing=missing or [],
            actor=actor,
        )

    # --- the step's own clock ----------------------------------------------------------

    def _waiting_approvers(self) -> list[str]:
        """Parties still pending, and within them the approvers who have not decided."""
        pending = [code for code, outcome in self.party_outcomes().items() if outcome is Outcome.PENDING]
        decided = {d.approver for d in self.decisions}
        return [r.email for r in self._notifier.counterparts(Role.APPROVER, pending) if r.email not in decided]

    async def run(self, until: Callable[[], bool] = lambda: False) -> Outcome:
        """The outcome once decided; PENDING if `until()` (e.g. a withdrawal) ends the wait first."""
        # Only the request carries the document itself; reminders name the version and its hash.
        await self._notifier.send(
            NoticeKind.APPROVAL_REQUEST,
            self._notifier.counterparts(Role.APPROVER),
            self._facts(
                documents=self.document.documents,
                previous_documents=self._previous.documents if self._previous else {},
            ),
        )
        since = workflow.now()
        delegates = asyncio.create_task(self._notify_delegates())

        def decided() -> bool:
            return self.outcome is not Outcome.PENDING or until()

        offsets = self._declaration.reminder_offsets
        for event in rules.deadline_clock(self.deadline, offsets.days, since, self._calendar, offsets.count):
            what = "Reminder" if event.kind is ClockEventKind.REMINDER else "Escalation"
            summary = f"{what}: {self.subject} v{self.document.version} due {fmt(self.deadline, self._notifier.tz)}"
            if not await wait_until(event.at, decided, summary):
                break
            waiting = set(self._waiting_approvers())
            if event.kind is ClockEventKind.REMINDER:
                recipients = [r for r in self._notifier.counterparts(Role.APPROVER) if r.email in waiting]
                await self._notifier.send(
                    NoticeKind.APPROVAL_REMINDER, recipients, self._facts(days_left=event.days_before)
                )
            else:
                self.overdue = True
                self._on_change()
                missing = sorted({d for d, o in self.party_outcomes().items() if o is Outcome.PENDING})
                # Sent to everyone: only approvers get a link, in their request and reminders.
                await self._notifier.send(
                    NoticeKind.APPROVAL_ESCALATION,
                    self._notifier.everyone(),
                    self._facts(with_link=False, missing=missing),
                )
        await workflow.wait_condition(decided)
        if until():
            delegates.cancel()
            return Outcome.PENDING
        # A delegate named just before the end still hears of it (their page then shows the outcome).
        await workflow.wait_condition(lambda: self._delegations_notified == len(self.delegations))
        delegates.cancel()
        return self.outcome

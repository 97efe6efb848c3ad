"""The mail activities: render a notice for a recipient in their locale and send it over SMTP.

`send_messages` is what notices use: a delivery's recipients in one activity,
each message heartbeated as soon as the server accepts it (the worker sends a
heartbeat within `HEARTBEAT_THROTTLE`, and the last one with a failed attempt),
so a retry after a crash or an SMTP outage skips whoever was settled.
`send_message` (one activity per recipient) and `send_notice` (a whole notice,
heartbeating every 24 s) stay registered for deliveries and consultations
started before, whose histories await them.

Every message's Message-ID derives from the workflow-assigned notice id and the
recipient, so a message received twice is recognisable.
"""

from __future__ import annotations

import asyncio
import difflib
import email.policy
import functools
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from datetime import timedelta
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.calendar import Invitation, invitations
from activities.documents import markdown_to_html
from activities.smtp import SmtpPool
from activities.wording import (
    FileGroup,
    FileLine,
    Wording,
    annexes_heading,
    covers_annexes,
    file_size,
    footer,
    greeting,
    input_files_heading,
    link_label,
    word,
)
from infra import logs
from infra.i18n import Words
from infra.links import LinkSigner
from infra.recorded import Texts, document_texts
from infra.settings import SmtpSettings
from schemas.annexes import FileRecord
from schemas.declaration import Locale
from schemas.links import FILE_LINK_LIFETIME, FileLinkSpec, FileLocation
from schemas.notices import (
    BatchProgress,
    BatchRequest,
    DeliveryInput,
    DeliveryOutcome,
    DeliveryReport,
    DocumentsAt,
    MessageOutcome,
    MessageRequest,
    Notice,
    Recipient,
)
from schemas.pages import DOCUMENT_FILES_QUERY, DocumentFiles, DocumentFilesRequest

log = logs.get_logger(__name__)

_templates = Environment(
    # Templates ship with the code: no stat of every file each time a message or document is rendered.
    auto_reload=False,
    loader=PackageLoader("activities", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


# Headers go out unfolded (RFC 5322 allows 998 characters a line): Python's folding
# moves a long Subject or Message-ID onto a continuation line and doubles spaces
# around encoded words, which some readers show as typed. Bodies are already
# quoted-printable at 76 characters and are not touched by this policy.
class _FoldedOnce(BaseHeader):
    """A header that keeps how it was written for each policy: the same Content-Type, Subject or Date is
    written in every message of a notice, and folding parses it all over again (a sixth of a message)."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        # By the policy's settings, not the policy: the generator clones its policy for every part it writes.
        key = (type(policy), tuple(policy.__dict__.items()))
        folds: dict[Hashable, str] = self.__dict__.setdefault("_folds", {})
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold(policy=policy)
        return folded


class _Headers(HeaderRegistry):
    """The standard library's header classes, each made once, and its headers parsed once per value.

    Its registry builds a new class every time a header is set or written (a dozen per message, a third of
    the time a message took to write), and parses every value again: the same two dozen Content-Type,
    Content-Transfer-Encoding, Subject and Date values, in every message of a notice. A header is an
    immutable string, so one parsed value serves every message that sets it. Only headers that repeat are
    kept (`SHARED`): a recipient's own (To, Message-ID) would only fill the cache with parse trees."""

    SHARED = frozenset(
        {
            "content-type",
            "content-transfer-encoding",
            "content-disposition",
            "content-language",
            "mime-version",
            "subject",
            "from",
            "date",
            "x-consultation-id",
            "x-consultation-notice",
        }
    )

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)

    @functools.cache  # noqa: B019 (one registry for the process)
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str) and name.lower() in self.SHARED:
            return self._parsed(name, value)
        return super().__call__(name, value)

    @functools.lru_cache(maxsize=512)  # noqa: B019 (one registry for the process)
    def _parsed(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)


_HEADERS = _Headers()
# Messages are built with the default policy but that registry.
_BUILD = email.policy.default.clone(header_factory=_HEADERS)
_WIRE = email.policy.SMTP.clone(max_line_length=998, header_factory=_HEADERS)

# The longest a worker holds a `send_messages` heartbeat before sending it (the worker's
# max_heartbeat_throttle_interval): the most a worker killed mid-send can have sent unrecorded.
HEARTBEAT_THROTTLE = timedelta(milliseconds=1)


def message_id(notice: Notice, recipient: Recipient, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "consult.localhost"
    who = hashlib.sha256(recipient.email.encode()).hexdigest()[:12]
    return f"<{notice.notice_id}.{who}@{domain}>"


# A notice's document is the same for every reader of a language: converted once per worker
# process, not once per recipient (a notice to 8 people used to convert it 8 times).
@functools.lru_cache(maxsize=32)
def _document_html(text: str) -> Markup:
    return Markup(markdown_to_html(text))


@functools.lru_cache(maxsize=32)
def _diff(before: str, after: str, version: int) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"v{version - 1}", f"v{version}"
        )
    )


# What a message's wording and calendar files do not depend on (and may be long): left out of their cache key.
_NOT_IN_WORDING = {"documents", "previous_documents"}


# A notice's wording and calendar files are the same for every reader of a language (and, for the files, of a
# party: a reader's notice names their party's attendees): made once, not once per recipient. The key is the
# notice as JSON: its content, not its id, which a test or a consultation id used again could repeat.
@functools.lru_cache(maxsize=64)
def _wording(notice_json: str, locale: Locale) -> Wording:
    return word(Notice.model_validate_json(notice_json), locale)


@functools.lru_cache(maxsize=64)
def _invitations(notice_json: str, locale: Locale, sender: str) -> tuple[Invitation, ...]:
    return tuple(invitations(Notice.model_validate_json(notice_json), Words(locale), sender))


@functools.lru_cache(maxsize=64)
def _boundary(notice_json: str) -> str:
    return secrets.token_hex(16)


def _with_boundaries(msg: EmailMessage, token: str) -> EmailMessage:
    """Each multipart's boundary set here, from a random token (128 bits) drawn once per notice: left to the
    generator, it is a random number checked against the whole body with a regular expression compiled for
    it, a sixth of a message's time; and one token for a notice's messages makes their Content-Type headers
    the same, parsed and written once. No body can hold it: it is drawn when the notice's first message is
    written, after everything the notice says was fixed."""
    for n, part in enumerate(msg.walk()):
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(f"==={token}.{n}==")
    return msg


def document_of(notice: Notice) -> tuple[str, int] | None:
    """The workflow and version of the minutes or draft a notice is about, if it names one: where its
    files are listed (the document's issuer, or the workflow its approval link acts on)."""
    if notice.document_source is not None:
        return notice.document_source.workflow_id, notice.document_source.version
    if notice.link is not None and notice.link.version is not None:
        return notice.link.workflow_id, notice.link.version
    return None


def file_groups(files: DocumentFiles, words: Words, link: Callable[[FileRecord, FileLocation], str]) -> list[FileGroup]:
    """A version's annexes, then each input's files (minutes), every file with the reader's own link."""

    def lines(records: list[FileRecord], where: FileLocation) -> list[FileLine]:
        return [
            FileLine(f.name, file_size(f.size, words), f.media_type.label, f.sha256, link(f, where)) for f in records
        ]

    groups = []
    if files.annexes:
        annexes = lines(files.annexes, FileLocation(version=files.version))
        groups.append(FileGroup(annexes_heading(words), annexes, annexes=True))
    for i in files.inputs:
        heading = input_files_heading(i.party_name, words.pillar(i.pillar), i.revision, words)
        groups.append(FileGroup(heading, lines(i.files, i.where)))
    return groups


def render(
    notice: Notice,
    recipient: Recipient,
    sender: str,
    link: str | None = None,
    files: list[FileGroup] | None = None,
) -> EmailMessage:
    """The message one recipient receives: plain text and HTML, in their locale, with their own link
    (and one per file of its document: files are linked, never attached)."""
    key = notice.model_dump_json(exclude=_NOT_IN_WORDING)
    wording = _wording(key, recipient.locale)
    words = Words(recipient.locale)
    annexed = any(group.annexes for group in files or [])
    context: dict[str, object] = {
        "wording": wording,
        "locale": recipient.locale.value,
        "_": words.gettext,
        "colon": words.colon,
        "greeting": greeting(recipient.name if recipient.name != recipient.email else None, words),
        "footer": footer(notice.notice_id, words),
        "link": link or "",
        "link_label": link_label(notice.link.purpose, words) if notice.link else "",
        "document_text": "",
        "document_html": "",
        "diff": "",
        "files": files or [],
        "files_heading": words.gettext("Files (download links for you alone)"),
        "covers": covers_annexes(notice.sha256 or "", words) if annexed and notice.sha256 else "",
    }
    if notice.documents:
        text = notice.documents.get(recipient.locale) or next(iter(notice.documents.values()))
        context["document_text"] = text
        context["document_html"] = _document_html(text)
    if notice.previous_documents:
        before = notice.previous_documents.get(recipient.locale) or next(iter(notice.previous_documents.values()))
        context["diff"] = _diff(before, str(context["document_text"]), notice.version or 2)
    msg = EmailMessage(policy=_BUILD)
    msg["Subject"] = wording.subject
    msg["From"] = sender
    # The standard library quotes a display name (`"`, `<`, `:`, commas...) so it cannot forge an address.
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    # The date the workflow issued the notice (workflow time), not when this attempt ran.
    msg["Date"] = format_datetime(notice.issued_at)
    msg["Message-ID"] = message_id(notice, recipient, sender)
    msg["X-Consultation-Id"] = notice.consultation_id
    msg["X-Consultation-Notice"] = notice.kind.value
    msg.set_content(_templates.get_template("notice.txt.j2").render(context))
    msg.add_alternative(_templates.get_template("notice.html.j2").render(context), subtype="html")
    # Calendar parts: a meeting invitation also goes inline as the third alternative (how mail
    # clients offer "accept/add to calendar"); every file is attached as well.
    found = _invitations(key, recipient.locale, sender)
    if found and found[0].filename == "invite.ics":
        msg.add_alternative(
            found[0].data.decode(), subtype="calendar", params={"method": found[0].method}, charset="utf-8"
        )
    for invitation in found:
        msg.add_attachment(
            invitation.data,
            maintype="text",
            subtype="calendar",
            filename=invitation.filename,
            params={"method": invitation.method, "charset": "utf-8"},
        )
    # After the bodies: setting content clears every Content-* header.
    msg["Content-Language"] = recipient.locale.value
    return _with_boundaries(msg, _boundary(key))


class Mailer:
    """Activities that send mail. The worker hands it the SMTP settings (the only place they live)."""

    # Documents of the notices being delivered, by delivery run: read once per notice per process.
    DOCUMENTS_KEPT = 64
    # Messages of one batch in flight at once (the worker's SMTP connections are bounded by its pool).
    MESSAGES_AT_ONCE = 4
    # Seconds between heartbeats while no message settles (well inside the delivery's heartbeat timeout).
    ALIVE_EVERY = 2.0

    def __init__(
        self,
        smtp: SmtpSettings,
        links: LinkSigner | None = None,
        gateway_url: str = "",
        client: Client | None = None,
    ) -> None:
        self._smtp = smtp
        self._links = links
        self._gateway_url = gateway_url.rstrip("/")
        # Reads a delivery run's input when its messages name their documents by reference (DocumentsAt).
        self._temporal = client
        self._pool = SmtpPool(self._client)
        self._documents: OrderedDict[Hashable, asyncio.Task[Any]] = OrderedDict()

    async def _with_documents(self, request: MessageRequest) -> Notice:
        """The notice with its documents, wherever the message left them: in the notice itself, in the
        delivery run's input (DocumentsAt), or with the workflow that issued the notice (DocumentSource)."""
        return await self._resolved(request.notice, request.documents_at)

    async def _resolved(self, notice: Notice, at: DocumentsAt | None = None) -> Notice:
        if at is not None:
            source = await self._once(at, lambda: self._delivered_notice(at))
            return notice.model_copy(
                update={"documents": source.documents, "previous_documents": source.previous_documents}
            )
        issued = notice.document_source
        if issued is None:
            return notice
        update = {"documents": await self._recorded(issued.workflow_id, issued.sha256)}
        if issued.previous_sha256:
            update["previous_documents"] = await self._recorded(issued.workflow_id, issued.previous_sha256)
        return notice.model_copy(update=update)

    async def _recorded(self, workflow_id: str, sha256: str | None) -> dict[Locale, str]:
        """A version's text from the history of the workflow that made it (read again if it is newer than the copy)."""
        texts: Texts = await self._once(workflow_id, lambda: document_texts(self._reader(), workflow_id))
        if sha256 not in texts:
            # A version newer than the copy: read again, once for all the messages that found it missing.
            stale = self._documents.get(workflow_id)
            if stale is not None and stale.done() and not stale.cancelled() and stale.result() is texts:
                self._documents.pop(workflow_id, None)
            texts = await self._once(workflow_id, lambda: document_texts(self._reader(), workflow_id))
        if sha256 not in texts:
            # The text is recorded before any notice names it: missing, it never will be there.
            raise ApplicationError(
                f"no document with SHA-256 {sha256} in the history of {workflow_id}", non_retryable=True
            )
        return texts[sha256]

    async def _once(self, key: Hashable, read: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """One read per key for all the messages in flight at once, kept for the next notices (bounded)."""
        task = self._documents.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.get_running_loop().create_task(read())
            self._documents[key] = task
            while len(self._documents) > self.DOCUMENTS_KEPT:
                self._documents.popitem(last=False)
        self._documents.move_to_end(key)
        return await asyncio.shield(task)

    def _reader(self) -> Client:
        if self._temporal is None:
            raise ApplicationError("this worker cannot read documents by reference (no Temporal client)")
        return self._temporal

    async def _delivered_notice(self, at: DocumentsAt) -> Notice:
        client = self._reader()
        handle = client.get_workflow_handle(at.workflow_id, run_id=at.run_id)
        async for event in handle.fetch_history_events(page_size=1):
            payloads = list(event.workflow_execution_started_event_attributes.input.payloads)
            [delivery] = await client.data_converter.decode(payloads, [DeliveryInput])
            assert isinstance(delivery, DeliveryInput)
            return delivery.notice
        raise ApplicationError(f"delivery {at.workflow_id} has no history")

    async def _files(self, notice: Notice, recipient: Recipient) -> list[FileGroup]:
        """The files of the notice's document, each with a link signed for this recipient."""
        document = document_of(notice)
        if document is None or self._links is None or self._temporal is None:
            return []
        workflow_id, version = document
        files: DocumentFiles = await self._once(
            ("files", workflow_id, version), lambda: self._document_files(workflow_id, version)
        )
        links = self._links
        expires_at = notice.issued_at + FILE_LINK_LIFETIME
        if notice.link is not None:
            expires_at = max(expires_at, notice.link.expires_at)

        def link(record: FileRecord, where: FileLocation) -> str:
            spec = FileLinkSpec(
                workflow_id=workflow_id,
                consultation_id=notice.consultation_id,
                sha256=record.sha256,
                where=where,
                expires_at=expires_at,
            )
            return f"{self._gateway_url}/files/{links.sign_file(spec, recipient.email)}"

        return file_groups(files, Words(recipient.locale), link)

    async def _document_files(self, workflow_id: str, version: int) -> DocumentFiles:
        # By name: activities sit below the workflows that answer it (schemas.pages names it for both).
        handle = self._reader().get_workflow_handle(workflow_id)
        try:
            files = await handle.query(
                DOCUMENT_FILES_QUERY, DocumentFilesRequest(version=version), result_type=DocumentFiles
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise ApplicationError(
                    f"{workflow_id} is gone: its files cannot be listed", non_retryable=True
                ) from error
            raise
        assert isinstance(files, DocumentFiles)
        return files

    def _link_for(self, notice: Notice, recipient: Recipient) -> str | None:
        if notice.link is None or self._links is None:
            return None
        token = self._links.sign(
            notice.link, recipient.email, locale=recipient.locale, utc_offset_minutes=notice.utc_offset_minutes
        )
        return f"{self._gateway_url}/l/{token}"

    def _client(self) -> aiosmtplib.SMTP:
        s = self._smtp
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            start_tls=s.starttls,
            use_tls=s.use_tls,
            timeout=s.timeout_seconds,
        )

    async def _send_one(self, notice: Notice, recipient: Recipient) -> str | None:
        """One message: None once the server accepted it, or why it refused it for good. Anything else raises:
        ApplicationError (not retryable) for a message that cannot be written, SMTP errors to be retried."""
        files = await self._files(notice, recipient)
        try:
            wire = render(notice, recipient, self._smtp.sender, self._link_for(notice, recipient), files).as_bytes(
                policy=_WIRE
            )
        except (ValueError, TypeError) as error:
            # A message that cannot be written now never will be: say why instead of retrying for a day.
            raise ApplicationError(f"the message cannot be written: {error}", non_retryable=True) from error
        # A connection kept open between messages (no QUIT before the activity returns or heartbeats): between
        # the server's acceptance and Temporal recording it, a crash means the message is sent again, so that
        # moment is kept short.
        async with self._pool.connection() as smtp:
            try:
                await smtp.sendmail(self._smtp.sender, [recipient.email], wire)
            except aiosmtplib.SMTPRecipientsRefused as refused:
                return "; ".join(str(e) for e in refused.recipients)
            except aiosmtplib.SMTPDataError as error:
                if error.code < 500:
                    raise
                return str(error)
        return None

    @activity.defn(name="send_message")
    async def send_message(self, request: MessageRequest) -> MessageOutcome:
        """One message to one recipient; a permanent refusal is an answer, anything else is retried.
        (Deliveries started before `send_messages` still schedule it.)"""
        notice = await self._with_documents(request)
        return MessageOutcome(refused=await self._send_one(notice, request.recipient))

    @activity.defn(name="send_messages")
    async def send_messages(self, request: BatchRequest) -> DeliveryOutcome:
        """Every recipient of a batch, a few messages at a time, with who is settled in heartbeat details.

        One activity for a notice's recipients instead of one each: the server records one activity, not
        eight or 250, which is most of what a notice cost it. Each message accepted is heartbeated at once
        (the worker throttles heartbeats to `HEARTBEAT_THROTTLE`, and flushes the last one when the attempt
        fails), so a retry after an SMTP outage sends nobody a message twice, and a worker killed mid-send
        re-sends at most what the server accepted in that last instant, as a per-message activity would.
        A permanent refusal, or a message that cannot be written, settles that recipient and the rest go on.
        """
        details = activity.info().heartbeat_details
        progress = BatchProgress.model_validate(details[0]) if details else BatchProgress()
        settled = set(progress.settled)
        notice = await self._resolved(request.notice, request.documents_at)
        pending = [(i, r) for i, r in enumerate(notice.recipients) if i not in settled]
        slots = asyncio.Semaphore(self.MESSAGES_AT_ONCE)

        def beat() -> None:
            activity.heartbeat(progress.model_dump())

        failures: list[BaseException] = []

        async def one(i: int, recipient: Recipient) -> None:
            async with slots:
                if failures:  # SMTP is failing: leave the rest to the next attempt
                    return
                try:
                    refused = await self._send_one(notice.for_reader(recipient), recipient)
                except Exception as error:
                    if not (isinstance(error, ApplicationError) and error.non_retryable):
                        failures.append(error)
                        return
                    progress.failed[recipient.email] = error.message
                else:
                    if refused is not None:
                        progress.refused[recipient.email] = refused
                progress.settled.append(i)
                beat()

        async def keep_beating() -> None:
            # While messages wait for a connection or a slow server, the worker is still alive.
            while True:
                await asyncio.sleep(self.ALIVE_EVERY)
                beat()

        alive = asyncio.get_running_loop().create_task(keep_beating())
        try:
            # Messages in flight when another fails are let finish (never cancelled between the server's
            # acceptance and its record), then the attempt fails with the first SMTP error and Temporal retries.
            await asyncio.gather(*(one(i, r) for i, r in pending))
        finally:
            alive.cancel()
        if failures:
            # Retried by Temporal; should this be the last attempt, the details tell the workflow who was settled.
            error = failures[0]
            raise ApplicationError(
                str(error) or type(error).__name__, progress.model_dump(), type=type(error).__name__
            ) from error
        # Counts only: addresses are personal data and stay out of logs.
        log.info(
            "notice sent",
            notice_id=notice.notice_id,
            recipients=len(notice.recipients),
            refused=len(progress.refused),
            failed=len(progress.failed),
        )
        return DeliveryOutcome(refused=progress.refused, failed=progress.failed)

    @activity.defn(name="send_notice")
    async def send_notice(self, notice: Notice) -> DeliveryReport:
        report = DeliveryReport()
        details = activity.info().heartbeat_details
        if details:
            report = DeliveryReport.model_validate(details[0])
        done = set(report.delivered) | set(report.refused)
        pending = [r for r in notice.recipients if r.email not in done]
        if not pending:
            return report
        # A consultation recorded before per-message delivery that took patch quiet-history live names its
        # document instead of carrying it: read it back here as send_message does.
        notice = await self._resolved(notice)
        async with self._client() as smtp:
            for recipient in pending:
                files = await self._files(notice, recipient)
                message = render(notice, recipient, self._smtp.sender, self._link_for(notice, recipient), files)
                try:
                    await smtp.sendmail(self._smtp.sender, [recipient.email], message.as_bytes(policy=_WIRE))
                    report.delivered.append(recipient.email)
                except aiosmtplib.SMTPRecipientsRefused as refused:
                    # A permanent refusal of one address must not block everyone else's notice.
                    report.refused[recipient.email] = "; ".join(str(e) for e in refused.recipients)
                activity.heartbeat(report.model_dump())
        # Counts only: addresses are personal data and stay out of logs.
        log.info(
            "notice sent", notice_id=notice.notice_id, delivered=len(report.delivered), refused=len(report.refused)
        )
        return report

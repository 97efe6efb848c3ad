"""What each notice says: its subject, paragraphs and facts, in the reader's language.

This module holds the shape of every notice, written in English; the words in
other languages come from the catalogs (`infra/locales/<lang>/LC_MESSAGES/messages.po`).
Placeholders are filled from the notice; dates are rendered in the declaration's
time zone, the reader's way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal

from infra.i18n import N_, Plural, Words
from schemas.declaration import Locale
from schemas.links import LinkPurpose
from schemas.notices import Notice, NoticeKind
from schemas.working_days import Count, Counting

Text = str | Plural  # a Plural counts the notice's days left

COMMENTS = "{comments}"  # a paragraph per comment, as written by whoever requested changes

CONSULTATION = (N_("Consultation"), "title")
PARTIES = (N_("Parties"), "parties")
PILLARS = (N_("Pillars"), "pillars")
FIRST_DEADLINE = (N_("First-round deadline"), "deadline_counted")
MEETING = (N_("Meeting"), "meeting")
INPUTS_DUE = (N_("Inputs due"), "inputs_due")
VERSION = (N_("Version"), "version")
SHA256 = (N_("SHA-256"), "sha256")
DECIDE_BY = (N_("Decide by"), "deadline_counted")
DOCUMENT = (VERSION, SHA256)


@dataclass(frozen=True)
class Shape:
    subject: Text
    paragraphs: tuple[Text, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()


SHAPES: dict[NoticeKind, Shape] = {
    NoticeKind.OPENED: Shape(
        N_("Consultation open: {title}"),
        (
            N_("The consultation established by the joint declaration is now open."),
            N_("The first technical round must take place by {deadline}."),
        ),
        (PILLARS, FIRST_DEADLINE),
    ),
    NoticeKind.REMINDER: Shape(
        Plural(
            "Reminder: {n} day left to hold the first round — {title}",
            "Reminder: {n} days left to hold the first round — {title}",
        ),
        (
            Plural(
                "The first technical round has not been opened yet. It must take place by {deadline}, in {n} day.",
                "The first technical round has not been opened yet. It must take place by {deadline}, in {n} days.",
            ),
        ),
        (FIRST_DEADLINE,),
    ),
    NoticeKind.ESCALATION: Shape(
        N_("Overdue: the first technical round was not held in time — {title}"),
        (
            N_("The deadline for the first technical round ({deadline}) has passed and no round has been opened."),
            N_(
                "The consultation stays open. The secretariats can open the round, extend the deadline with a "
                "reason, or withdraw."
            ),
        ),
        (FIRST_DEADLINE,),
    ),
    NoticeKind.DEADLINE_EXTENDED: Shape(
        N_("First-round deadline extended to {deadline} — {title}"),
        (N_("{actor} extended the deadline for the first technical round."), N_("Reason: {reason}")),
        ((N_("Previous deadline"), "previous_deadline"), (N_("New deadline"), "deadline")),
    ),
    NoticeKind.ROUND_SCHEDULED: Shape(
        N_("Technical round {round} scheduled for {meeting} — {title}"),
        (
            N_("Technical round {round} has been opened by {actor}."),
            N_("Each party's input on the pillars below is due by {inputs_due}."),
        ),
        (MEETING, INPUTS_DUE, PILLARS),
    ),
    NoticeKind.MEETING_RESCHEDULED: Shape(
        N_("Round {round} meeting moved to {meeting} — {title}"),
        (N_("{actor} moved the meeting of technical round {round}."), N_("Reason: {reason}")),
        (MEETING, INPUTS_DUE),
    ),
    NoticeKind.WITHDRAWN: Shape(
        N_("Consultation withdrawn — {title}"),
        (N_("{actor} withdrew the consultation."), N_("Reason: {reason}")),
    ),
    NoticeKind.INPUT_REQUEST: Shape(
        N_("Technical round {round}: your input is requested — {title}"),
        (
            N_(
                "Technical round {round} is open. Please send your party's input on each pillar below by "
                "{inputs_due}: a summary and the pillar's items."
            ),
            N_("Your secretariat can also submit it on your behalf."),
        ),
        (PILLARS, INPUTS_DUE, MEETING),
    ),
    NoticeKind.INPUT_REMINDER: Shape(
        Plural(
            "Reminder: {n} day left for your round {round} input — {title}",
            "Reminder: {n} days left for your round {round} input — {title}",
        ),
        (
            N_("Your party's input on these pillars has not been received yet: {pillars}."),
            N_("Inputs are due by {inputs_due}."),
        ),
        ((N_("Missing"), "missing"), INPUTS_DUE),
    ),
    NoticeKind.APPROVAL_REQUEST: Shape(
        N_("Approval requested: {doc} v{version} — {title}"),
        (N_("Please review {the_doc} (version {version}, below) and approve it or request changes by {deadline}."),),
        (*DOCUMENT, DECIDE_BY),
    ),
    NoticeKind.APPROVAL_REMINDER: Shape(
        Plural(
            "Reminder: {n} day left to decide on {the_doc} — {title}",
            "Reminder: {n} days left to decide on {the_doc} — {title}",
        ),
        (N_("Your decision on {the_doc} (version {version}) is due by {deadline}."),),
        (*DOCUMENT, DECIDE_BY),
    ),
    NoticeKind.APPROVAL_ESCALATION: Shape(
        N_("Overdue: {the_doc} still awaits approval — {title}"),
        (
            N_("The deadline to decide on {the_doc} (version {version}) has passed."),
            N_("Still waiting for: {missing}."),
        ),
        (VERSION, (N_("Deadline"), "deadline")),
    ),
    NoticeKind.CHANGES_REQUESTED: Shape(
        N_("Changes requested on {the_doc} v{version} — {title}"),
        (
            N_("Changes were requested:"),
            COMMENTS,
            N_("Edit the text and re-issue it (consult round minutes); approval then starts again on the new version."),
        ),
        DOCUMENT,
    ),
    NoticeKind.APPROVED: Shape(
        N_("Approved by every party: {doc} — {title}"),
        (N_("Every party approved {the_doc}, version {version} (text below)."),),
        DOCUMENT,
    ),
    NoticeKind.DELEGATED: Shape(
        N_("{actor} asks you to decide on {the_doc} — {title}"),
        (
            N_("{actor} forwarded their decision on {the_doc} (version {version}) to you."),
            N_(
                "Please approve it or request changes by {deadline}; your decision counts as theirs and the "
                "record shows both names."
            ),
        ),
        (*DOCUMENT, DECIDE_BY),
    ),
    NoticeKind.DRAFT_CHANGES_REQUESTED: Shape(
        N_("Changes requested on agreement draft v{version} — {title}"),
        (
            N_("Changes were requested:"),
            COMMENTS,
            N_("Submit a new version with consult draft submit; approval starts again on it."),
        ),
        DOCUMENT,
    ),
    NoticeKind.CONCLUDED: Shape(
        N_("Agreement concluded — {title}"),
        (
            N_(
                "Every party approved version {version} of the agreement. Its final text is below; its SHA-256 "
                "identifies it."
            ),
        ),
        DOCUMENT,
    ),
    NoticeKind.DECLINED: Shape(
        N_("Agreement declined — {title}"),
        (
            N_("{actor} declined version {version} of the agreement; the consultation ends here."),
            N_("Reason: {reason}"),
        ),
        DOCUMENT,
    ),
    NoticeKind.DRAFTING_STARTED: Shape(
        N_("Drafting of the agreement has started — {title}"),
        (N_("{actor} closed the technical rounds; the secretariats are drafting the agreement."),),
    ),
}

LINK_LABELS = {
    LinkPurpose.MINUTES_APPROVAL: N_("Open the page to approve, request changes or forward"),
    LinkPurpose.PILLAR_INPUT: N_("Open the page to submit your party's input"),
    LinkPurpose.AGREEMENT_APPROVAL: N_("Open the page to approve, request changes, decline or forward"),
}


@dataclass(frozen=True)
class Wording:
    subject: str
    paragraphs: list[str]
    facts: list[tuple[str, str]]


def _values(notice: Notice, words: Words) -> dict[str, object]:
    def when(moment: datetime | None) -> str:
        return words.when(moment, notice.tz) if moment else ""

    _ = words.gettext
    if notice.round_number is not None:
        doc = _("minutes of round {round}", round=notice.round_number)
    else:
        doc = _("agreement draft")
    the_doc = the_document(notice.round_number, words)
    return {
        "title": notice.title,
        "parties": ", ".join(notice.parties),
        "pillars": "; ".join(words.pillar(p) for p in notice.pillars),
        "missing": ", ".join(notice.missing),
        "deadline": when(notice.deadline),
        "deadline_counted": counted(notice.counting, when(notice.deadline), words),
        "previous_deadline": when(notice.previous_deadline),
        "meeting": when(notice.meeting_at),
        "inputs_due": when(notice.inputs_due),
        "round": notice.round_number,
        "actor": notice.actor,
        "reason": notice.reason,
        "version": notice.version,
        "sha256": notice.sha256 or "",
        "doc": doc,
        "the_doc": the_doc,
    }


def the_document(round_number: int | None, words: Words) -> str:
    """What an approval is about, with its article: a round's minutes, or the agreement draft."""
    if round_number:
        return words.gettext("the minutes of round {round}", round=round_number)
    return words.gettext("the agreement draft")


def word(notice: Notice, locale: Locale) -> Wording:
    words = Words(locale)
    values = _values(notice, words)

    def say(text: Text) -> str:
        if isinstance(text, Plural):
            return words.ngettext(text.singular, text.plural, notice.days_left or 0, **values)
        return words.gettext(text, **values)

    shape = SHAPES[notice.kind]
    paragraphs: list[str] = []
    for text in shape.paragraphs:
        paragraphs.extend(notice.comments if text == COMMENTS else [say(text)])
    facts = [(words.gettext(label), str(values[key])) for label, key in (CONSULTATION, PARTIES, *shape.facts)]
    return Wording(say(shape.subject), paragraphs, facts)


def counted(counting: Counting | None, when: str, words: Words) -> str:
    """A date with how it was counted, when the declaration says so: "10 working days (CL, US holidays) → …"."""
    if counting is None or not when:
        return when
    if counting.count is Count.WORKING_DAYS:
        days = words.ngettext("{n} working day", "{n} working days", counting.days)
    else:
        days = words.ngettext("{n} calendar day", "{n} calendar days", counting.days)
    if counting.calendars:
        days = words.gettext("{days} ({calendars} holidays)", days=days, calendars=", ".join(counting.calendars))
    return f"{days} → {when}"


def greeting(recipient_name: str | None, words: Words) -> str:
    """`Dear Ana Pérez,` for a named recipient, `Dear colleagues,` when only an address is known."""
    return words.gettext("Dear {name},", name=recipient_name) if recipient_name else words.gettext("Dear colleagues,")


def link_label(purpose: LinkPurpose, words: Words) -> str:
    return words.gettext(LINK_LABELS[purpose]) if purpose in LINK_LABELS else ""


def footer(reference: str, words: Words) -> str:
    return words.gettext(
        "This message was sent by the consultation secretariat's orchestrator. Reference: {ref}", ref=reference
    )


# --- attached files ----------------------------------------------------------------------

# A file's size the way people read it; its exact size in bytes is in the dossier.
_UNITS = ((1024 * 1024, N_("{size} MB")), (1024, N_("{size} KB")))


def file_size(size: int, words: Words) -> str:
    """`2.4 MB`, `380 KB`, `512 bytes`: one decimal in MB, none in KB (in the reader's digits)."""
    for unit, text in _UNITS:
        if size >= unit:
            shown = format_decimal(round(size / unit, 1 if unit > 1024 else 0), "#,##0.#", locale=words.locale.value)
            return words.gettext(text, size=shown)
    return words.ngettext("{n} byte", "{n} bytes", size)


@dataclass(frozen=True)
class FileLine:
    """One file as a message or page lists it, with the reader's own link to download it."""

    name: str
    size: str
    type: str
    sha256: str
    link: str


@dataclass(frozen=True)
class FileGroup:
    """A heading and its files: a version's annexes, or one party's input on one pillar."""

    heading: str
    files: list[FileLine]
    annexes: bool = False  # a version's own annexes (its SHA-256 covers them), not an input's files


def annexes_heading(words: Words) -> str:
    return words.gettext("Annexes")


def input_files_heading(party_name: str, pillar: str, revision: int, words: Words) -> str:
    return words.gettext(
        "Files of the input of {party} on {pillar} (revision {rev})", party=party_name, pillar=pillar, rev=revision
    )


def covers_annexes(sha256: str, words: Words) -> str:
    """What a decision on a version with annexes covers: said beside its annexes, in the message and on the page."""
    return words.gettext(
        "A decision on this version covers the document and its annexes together: its SHA-256 {sha} is "
        "computed over the text and every annex's SHA-256.",
        sha=sha256,
    )

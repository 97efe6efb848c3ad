"""What the gateway's pages say, by the key pages and templates use (`t.approve`, `page.t["recorded"]`).

Written once, in English; every other language comes from its catalog
(`infra/locales/<lang>/LC_MESSAGES/messages.po`) through `texts(locale)`.
"""

from __future__ import annotations

import functools

from infra.i18n import FIELD_LABELS, N_, Words
from schemas.declaration import Locale

TEXTS: dict[str, str] = {
    "approve": N_("Approve"),
    "request_changes": N_("Request changes"),
    "comment": N_("Comment (required to request changes or decline)"),
    "minutes_of": N_("Minutes of technical round {n}"),
    "agreement_draft": N_("Agreement draft"),
    "decline": N_("Decline"),
    "version": N_("Version"),
    "sha": N_("SHA-256"),
    "deadline": N_("Decide by"),
    "consultation": N_("Consultation"),
    "for": N_("For"),
    "recorded": N_("Your decision is recorded"),
    "recorded_detail": N_("{decision} on version {version} (SHA-256 {sha}), recorded {when}."),
    "already": N_("Already recorded"),
    "already_detail": N_("Already recorded on {when} by {name}: {decision}."),
    "closed": N_("This request is no longer open"),
    "expired": N_("This link has expired"),
    "expired_detail": N_("It expired on {when}. Please contact the secretariat: {operators}."),
    "invalid": N_("This link is not valid"),
    "invalid_detail": N_("It may have been cut or changed. Please use the link from your email as it is."),
    "unavailable": N_("Please try again in a moment"),
    "unavailable_detail": N_(
        "The consultation could not be reached just now. Nothing was lost; reload this page to try again."
    ),
    "fault": N_("Something went wrong on our side"),
    "fault_detail": N_(
        "This is a fault in the service, not in your link. It was logged as error {error_id}; "
        "please quote this id to the secretariat."
    ),
    "need_comment": N_("Please say in the comment what should change."),
    "inputs_title": N_("Round {n}: your party's input"),
    "inputs_due": N_("Inputs due"),
    "missing": N_("not yet submitted"),
    "submitted": N_("submitted (revision {rev})"),
    "open_form": N_("Open the form"),
    "summary": N_("Summary"),
    "items_heading": N_("Items"),
    "add_row": N_("Add a row"),
    "remove_row": N_("Remove"),
    "submit": N_("Submit"),
    "input_recorded": N_("Your input is recorded"),
    "input_recorded_detail": N_("{pillar}: revision {rev}, recorded {when}. A later submission replaces it."),
    "fix_errors": N_("Please correct the fields marked below; nothing was recorded yet."),
    "back": N_("Back to the pillars"),
    "forward": N_("Forward to a colleague"),
    "forward_help": N_("They receive their own link; their decision counts as yours and the record shows both names."),
    "forward_button": N_("Forward"),
    "forwarded": N_("Forwarded"),
    "forwarded_detail": N_("{name} will receive their own link to decide on version {version}."),
    "choose_colleague": N_("Choose a colleague from the list; nothing was recorded."),
    "on_behalf": N_("on behalf of {name}"),
    "newer_version": N_("Version {version} replaced this one and awaits decisions; please use the link in its email."),
    "inputs_closed": N_("Inputs for this round are closed."),
    "not_found": N_("This page does not exist"),
    "unreadable": N_("This request could not be read"),
    "unreadable_detail": N_(
        "What was sent is not a form this page makes, and nothing was recorded. "
        "Please open the link in your email again and use the page's buttons."
    ),
    "too_large": N_("This form is too large"),
    "too_large_detail": N_(
        "What was sent is larger than any form this service accepts, and nothing was recorded. "
        "Please shorten the texts and try again."
    ),
    # Files: attached to an input, listed with a document, downloaded through a link.
    "attachments": N_("Files (PDF, DOCX, XLSX, ODT, ODS, CSV, PNG or JPEG; up to 25 MB each)"),
    "attachments_help": N_("Add one or more files; their type is checked from their content, not their name."),
    "earlier_files": N_("Files of your current input (untick one to leave it out of the new revision)"),
    "keep": N_("Keep {name}"),
    "files_again": N_("Nothing was recorded: please choose your files again when you submit."),
    "too_many_files": N_("An input has at most {n} files, the ones kept included; {count} were sent."),
    "file_empty": N_("{name} is empty."),
    "file_too_large": N_("{name} is {size}; each file may be at most 25 MB."),
    "file_type": N_(
        "{name} is not a PDF, DOCX, XLSX, ODT, ODS, CSV, PNG or JPEG file by its content (its name does not count)."
    ),
    "file_extension": N_("{name} is a {type} file by its content, but its name ends in {suffix}: name it {suggested}."),
    "annexes": N_("Annexes"),
    "input_files": N_("Files of the input of {party} on {pillar} (revision {rev})"),
    "covers_annexes": N_(
        "A decision on this version covers the document and its annexes together: its SHA-256 {sha} is "
        "computed over the text and every annex's SHA-256."
    ),
    "file_gone": N_("This file is not available"),
    "file_gone_detail": N_(
        "The link does not name a file of a document you were sent. Please use the link from your email as it is."
    ),
    "no_extension": N_("no extension"),
}

DECISION_WORDS = {"approve": N_("Approved"), "request_changes": N_("Changes requested"), "decline": N_("Declined")}

# The form asks for a list of minerals in one box; elsewhere the column is just "Minerals".
FORM_LABELS = {**FIELD_LABELS, "minerals": N_("Minerals (comma-separated)")}

OUTCOME_WORDS = {
    "approved": N_("Approved by every party."),
    "changes_requested": N_("Changes were requested; a new version will follow."),
    "declined": N_("Declined."),
    "pending": N_("Awaiting decisions."),
    "closed": N_("The round is closed."),
    "collecting": N_("Inputs are being collected."),
    "changes_requested_round": N_("Changes were requested."),
    "concluded": N_("The agreement is concluded."),
    "withdrawn": N_("The consultation was withdrawn."),
    "drafting_agreement": N_("A new draft is being prepared."),
    "awaiting_approval": N_("Awaiting decisions."),
    "technical_rounds": N_("The technical rounds are under way."),
    "minutes_approval": N_("Awaiting decisions."),
}


@functools.cache
def words_for(locale: Locale) -> Words:
    """One reader's words, made once per language and process."""
    return Words(locale)


@functools.cache
def texts(locale: Locale) -> dict[str, str]:
    """Every text of the pages in one language, by key (placeholders left for the page to fill)."""
    words = words_for(locale)
    return {key: words.gettext(message) for key, message in TEXTS.items()}


@functools.cache
def form_labels(locale: Locale) -> dict[str, str]:
    """The input form's field labels in one language."""
    words = words_for(locale)
    return {field: words.gettext(label) for field, label in FORM_LABELS.items()}

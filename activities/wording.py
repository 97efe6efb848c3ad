"""What each notice says, in Spanish and English.

Kept apart from the mail plumbing so a translator or a secretariat can review
the wording in one file. Each entry returns a subject and paragraphs; dates are
rendered in the declaration's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from infra.formatting import format_when
from schemas.declaration import Locale, Pillar
from schemas.links import LinkPurpose
from schemas.notices import Notice, NoticeKind

PILLAR_NAMES: dict[Locale, dict[Pillar, str]] = {
    Locale.EN: {
        Pillar.SUPPLY_CHAIN: "Supply chain resilience",
        Pillar.STRATEGIC_PROJECTS: "Strategic projects",
        Pillar.RECYCLING: "Recycling and scrap management",
        Pillar.FINANCING: "Financing",
    },
    Locale.ES: {
        Pillar.SUPPLY_CHAIN: "Fortalecimiento de cadenas de suministro",
        Pillar.STRATEGIC_PROJECTS: "Proyectos estratégicos",
        Pillar.RECYCLING: "Reciclaje y gestión de chatarra",
        Pillar.FINANCING: "Financiamiento",
    },
}


@dataclass(frozen=True)
class Wording:
    subject: str
    paragraphs: list[str]
    facts: list[tuple[str, str]]


def _when(notice: Notice, locale: Locale) -> Callable[[datetime | None], str]:
    def when(moment: datetime | None) -> str:
        return format_when(moment, notice.tz, locale) if moment else ""

    return when


def _doc(notice: Notice, locale: Locale, article: bool = False) -> str:
    """The document being approved, named in the reader's language."""
    if notice.round_number is not None:
        if locale is Locale.ES:
            return f"{'el ' if article else ''}acta de la ronda {notice.round_number}"
        return f"minutes of round {notice.round_number}"
    if locale is Locale.ES:
        return f"{'el ' if article else ''}borrador del acuerdo"
    return "agreement draft"


def _pillars(notice: Notice, locale: Locale) -> str:
    return "; ".join(PILLAR_NAMES[locale][p] for p in notice.pillars)


def _en(notice: Notice) -> Wording:
    when = _when(notice, Locale.EN)
    title = notice.title
    facts = [("Consultation", title), ("Parties", ", ".join(notice.parties))]
    match notice.kind:
        case NoticeKind.OPENED:
            return Wording(
                f"Consultation open: {title}",
                [
                    "The consultation established by the joint declaration is now open.",
                    f"The first technical round must take place by {when(notice.deadline)}.",
                ],
                [
                    *facts,
                    ("Pillars", _pillars(notice, Locale.EN)),
                    ("First-round deadline", when(notice.deadline)),
                ],
            )
        case NoticeKind.REMINDER:
            return Wording(
                f"Reminder: {notice.days_left} day(s) left to hold the first round — {title}",
                [
                    f"The first technical round has not been opened yet. It must take place by "
                    f"{when(notice.deadline)}, in {notice.days_left} day(s).",
                ],
                [*facts, ("First-round deadline", when(notice.deadline))],
            )
        case NoticeKind.ESCALATION:
            return Wording(
                f"Overdue: the first technical round was not held in time — {title}",
                [
                    f"The deadline for the first technical round ({when(notice.deadline)}) has passed "
                    "and no round has been opened.",
                    "The consultation stays open. The secretariats can open the round, "
                    "extend the deadline with a reason, or withdraw.",
                ],
                [*facts, ("First-round deadline", when(notice.deadline))],
            )
        case NoticeKind.DEADLINE_EXTENDED:
            return Wording(
                f"First-round deadline extended to {when(notice.deadline)} — {title}",
                [
                    f"{notice.actor} extended the deadline for the first technical round.",
                    f"Reason: {notice.reason}",
                ],
                [
                    *facts,
                    ("Previous deadline", when(notice.previous_deadline)),
                    ("New deadline", when(notice.deadline)),
                ],
            )
        case NoticeKind.ROUND_SCHEDULED:
            return Wording(
                f"Technical round {notice.round_number} scheduled for {when(notice.meeting_at)} — {title}",
                [
                    f"Technical round {notice.round_number} has been opened by {notice.actor}.",
                    f"Each party's input on the pillars below is due by {when(notice.inputs_due)}.",
                ],
                [
                    *facts,
                    ("Meeting", when(notice.meeting_at)),
                    ("Inputs due", when(notice.inputs_due)),
                    ("Pillars", _pillars(notice, Locale.EN)),
                ],
            )
        case NoticeKind.WITHDRAWN:
            return Wording(
                f"Consultation withdrawn — {title}",
                [f"{notice.actor} withdrew the consultation.", f"Reason: {notice.reason}"],
                facts,
            )
        case NoticeKind.INPUT_REQUEST:
            return Wording(
                f"Technical round {notice.round_number}: your input is requested — {title}",
                [
                    f"Technical round {notice.round_number} is open. Please send your party's input on each "
                    f"pillar below by {when(notice.inputs_due)}: a summary and the pillar's items.",
                    "Your secretariat can also submit it on your behalf.",
                ],
                [
                    *facts,
                    ("Pillars", _pillars(notice, Locale.EN)),
                    ("Inputs due", when(notice.inputs_due)),
                    ("Meeting", when(notice.meeting_at)),
                ],
            )
        case NoticeKind.INPUT_REMINDER:
            return Wording(
                f"Reminder: {notice.days_left} day(s) left for your round {notice.round_number} input — {title}",
                [
                    f"Your party's input on these pillars has not been received yet: {_pillars(notice, Locale.EN)}.",
                    f"Inputs are due by {when(notice.inputs_due)}.",
                ],
                [*facts, ("Missing", ", ".join(notice.missing)), ("Inputs due", when(notice.inputs_due))],
            )
        case NoticeKind.APPROVAL_REQUEST:
            return Wording(
                f"Approval requested: {_doc(notice, Locale.EN)} v{notice.version} — {title}",
                [
                    f"Please review the {_doc(notice, Locale.EN)} (version {notice.version}, below) and approve it "
                    f"or request changes by {when(notice.deadline)}.",
                ],
                [
                    *facts,
                    ("Version", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decide by", when(notice.deadline)),
                ],
            )
        case NoticeKind.APPROVAL_REMINDER:
            return Wording(
                f"Reminder: {notice.days_left} day(s) left to decide on the {_doc(notice, Locale.EN)} — {title}",
                [
                    f"Your decision on the {_doc(notice, Locale.EN)} (version {notice.version}) is due by {when(notice.deadline)}."
                ],
                [
                    *facts,
                    ("Version", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decide by", when(notice.deadline)),
                ],
            )
        case NoticeKind.APPROVAL_ESCALATION:
            return Wording(
                f"Overdue: the {_doc(notice, Locale.EN)} still awaits approval — {title}",
                [
                    f"The deadline to decide on the {_doc(notice, Locale.EN)} (version {notice.version}) has passed.",
                    f"Still waiting for: {', '.join(notice.missing)}.",
                ],
                [*facts, ("Version", str(notice.version)), ("Deadline", when(notice.deadline))],
            )
        case NoticeKind.CHANGES_REQUESTED:
            return Wording(
                f"Changes requested on the {_doc(notice, Locale.EN)} v{notice.version} — {title}",
                [
                    "Changes were requested:",
                    *notice.comments,
                    "Edit the text and re-issue it (consult round minutes); approval then starts again on the new version.",
                ],
                [*facts, ("Version", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.APPROVED:
            return Wording(
                f"Approved by every party: {_doc(notice, Locale.EN)} — {title}",
                [f"Every party approved the {_doc(notice, Locale.EN)}, version {notice.version} (text below)."],
                [*facts, ("Version", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DELEGATED:
            return Wording(
                f"{notice.actor} asks you to decide on the {_doc(notice, Locale.EN)} — {title}",
                [
                    f"{notice.actor} forwarded their decision on the {_doc(notice, Locale.EN)} (version {notice.version}) to you.",
                    f"Please approve it or request changes by {when(notice.deadline)}; your decision counts as theirs and the record shows both names.",
                ],
                [
                    *facts,
                    ("Version", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decide by", when(notice.deadline)),
                ],
            )
        case NoticeKind.DRAFT_CHANGES_REQUESTED:
            return Wording(
                f"Changes requested on agreement draft v{notice.version} — {title}",
                [
                    "Changes were requested:",
                    *notice.comments,
                    "Submit a new version with consult draft submit; approval starts again on it.",
                ],
                [*facts, ("Version", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.CONCLUDED:
            return Wording(
                f"Agreement concluded — {title}",
                [
                    f"Every party approved version {notice.version} of the agreement. Its final text is below; its SHA-256 identifies it."
                ],
                [*facts, ("Version", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DECLINED:
            return Wording(
                f"Agreement declined — {title}",
                [
                    f"{notice.actor} declined version {notice.version} of the agreement; the consultation ends here.",
                    f"Reason: {notice.reason}",
                ],
                [*facts, ("Version", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DRAFTING_STARTED:
            return Wording(
                f"Drafting of the agreement has started — {title}",
                [f"{notice.actor} closed the technical rounds; the secretariats are drafting the agreement."],
                facts,
            )


def _es(notice: Notice) -> Wording:
    when = _when(notice, Locale.ES)
    title = notice.title
    facts = [("Consulta", title), ("Partes", ", ".join(notice.parties))]
    match notice.kind:
        case NoticeKind.OPENED:
            return Wording(
                f"Consulta abierta: {title}",
                [
                    "La consulta establecida por la declaración conjunta está abierta.",
                    f"La primera ronda técnica debe realizarse a más tardar el {when(notice.deadline)}.",
                ],
                [
                    *facts,
                    ("Pilares", _pillars(notice, Locale.ES)),
                    ("Plazo de la primera ronda", when(notice.deadline)),
                ],
            )
        case NoticeKind.REMINDER:
            return Wording(
                f"Recordatorio: quedan {notice.days_left} día(s) para la primera ronda — {title}",
                [
                    f"La primera ronda técnica aún no ha sido convocada. Debe realizarse a más tardar el "
                    f"{when(notice.deadline)}, dentro de {notice.days_left} día(s).",
                ],
                [*facts, ("Plazo de la primera ronda", when(notice.deadline))],
            )
        case NoticeKind.ESCALATION:
            return Wording(
                f"Plazo vencido: la primera ronda técnica no se realizó a tiempo — {title}",
                [
                    f"El plazo para la primera ronda técnica ({when(notice.deadline)}) venció "
                    "sin que se convocara ninguna ronda.",
                    "La consulta sigue abierta. Las secretarías pueden convocar la ronda, "
                    "prorrogar el plazo indicando el motivo, o retirar la consulta.",
                ],
                [*facts, ("Plazo de la primera ronda", when(notice.deadline))],
            )
        case NoticeKind.DEADLINE_EXTENDED:
            return Wording(
                f"Plazo de la primera ronda prorrogado al {when(notice.deadline)} — {title}",
                [
                    f"{notice.actor} prorrogó el plazo de la primera ronda técnica.",
                    f"Motivo: {notice.reason}",
                ],
                [
                    *facts,
                    ("Plazo anterior", when(notice.previous_deadline)),
                    ("Nuevo plazo", when(notice.deadline)),
                ],
            )
        case NoticeKind.ROUND_SCHEDULED:
            return Wording(
                f"Ronda técnica {notice.round_number} convocada para el {when(notice.meeting_at)} — {title}",
                [
                    f"{notice.actor} convocó la ronda técnica {notice.round_number}.",
                    f"Los aportes de cada parte sobre los pilares indicados vencen el {when(notice.inputs_due)}.",
                ],
                [
                    *facts,
                    ("Reunión", when(notice.meeting_at)),
                    ("Aportes hasta", when(notice.inputs_due)),
                    ("Pilares", _pillars(notice, Locale.ES)),
                ],
            )
        case NoticeKind.WITHDRAWN:
            return Wording(
                f"Consulta retirada — {title}",
                [f"{notice.actor} retiró la consulta.", f"Motivo: {notice.reason}"],
                facts,
            )
        case NoticeKind.INPUT_REQUEST:
            return Wording(
                f"Ronda técnica {notice.round_number}: se solicita su aporte — {title}",
                [
                    f"La ronda técnica {notice.round_number} está abierta. Envíe el aporte de su parte sobre cada "
                    f"pilar indicado a más tardar el {when(notice.inputs_due)}: un resumen y los elementos del pilar.",
                    "Su secretaría también puede enviarlo en su nombre.",
                ],
                [
                    *facts,
                    ("Pilares", _pillars(notice, Locale.ES)),
                    ("Aportes hasta", when(notice.inputs_due)),
                    ("Reunión", when(notice.meeting_at)),
                ],
            )
        case NoticeKind.INPUT_REMINDER:
            return Wording(
                f"Recordatorio: quedan {notice.days_left} día(s) para su aporte a la ronda {notice.round_number} — {title}",
                [
                    f"Aún no se ha recibido el aporte de su parte sobre estos pilares: {_pillars(notice, Locale.ES)}.",
                    f"Los aportes vencen el {when(notice.inputs_due)}.",
                ],
                [*facts, ("Faltan", ", ".join(notice.missing)), ("Aportes hasta", when(notice.inputs_due))],
            )
        case NoticeKind.APPROVAL_REQUEST:
            return Wording(
                f"Aprobación solicitada: {_doc(notice, Locale.ES)} v{notice.version} — {title}",
                [
                    f"Revise {_doc(notice, Locale.ES, article=True)} (versión {notice.version}, a continuación) y "
                    f"apruébela o solicite cambios a más tardar el {when(notice.deadline)}.",
                ],
                [
                    *facts,
                    ("Versión", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decidir antes del", when(notice.deadline)),
                ],
            )
        case NoticeKind.APPROVAL_REMINDER:
            return Wording(
                f"Recordatorio: quedan {notice.days_left} día(s) para decidir sobre {_doc(notice, Locale.ES, article=True)} — {title}",
                [
                    f"Su decisión sobre {_doc(notice, Locale.ES, article=True)} (versión {notice.version}) vence el {when(notice.deadline)}."
                ],
                [
                    *facts,
                    ("Versión", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decidir antes del", when(notice.deadline)),
                ],
            )
        case NoticeKind.APPROVAL_ESCALATION:
            return Wording(
                f"Plazo vencido: {_doc(notice, Locale.ES, article=True)} sigue pendiente de aprobación — {title}",
                [
                    f"Venció el plazo para decidir sobre {_doc(notice, Locale.ES, article=True)} (versión {notice.version}).",
                    f"Falta la decisión de: {', '.join(notice.missing)}.",
                ],
                [*facts, ("Versión", str(notice.version)), ("Plazo", when(notice.deadline))],
            )
        case NoticeKind.CHANGES_REQUESTED:
            return Wording(
                f"Se solicitaron cambios: {_doc(notice, Locale.ES)} v{notice.version} — {title}",
                [
                    "Se solicitaron cambios:",
                    *notice.comments,
                    "Edite el texto y vuelva a emitirlo (consult round minutes); la aprobación comienza de nuevo sobre la nueva versión.",
                ],
                [*facts, ("Versión", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.APPROVED:
            return Wording(
                f"Aprobado por todas las partes: {_doc(notice, Locale.ES)} — {title}",
                [
                    f"Todas las partes aprobaron {_doc(notice, Locale.ES, article=True)}, versión {notice.version} (texto a continuación)."
                ],
                [*facts, ("Versión", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DELEGATED:
            return Wording(
                f"{notice.actor} le pide decidir sobre {_doc(notice, Locale.ES, article=True)} — {title}",
                [
                    f"{notice.actor} le delegó su decisión sobre {_doc(notice, Locale.ES, article=True)} (versión {notice.version}).",
                    f"Apruébela o solicite cambios a más tardar el {when(notice.deadline)}; su decisión cuenta como la suya y el registro muestra ambos nombres.",
                ],
                [
                    *facts,
                    ("Versión", str(notice.version)),
                    ("SHA-256", notice.sha256 or ""),
                    ("Decidir antes del", when(notice.deadline)),
                ],
            )
        case NoticeKind.DRAFT_CHANGES_REQUESTED:
            return Wording(
                f"Se solicitaron cambios al borrador del acuerdo v{notice.version} — {title}",
                [
                    "Se solicitaron cambios:",
                    *notice.comments,
                    "Envíe una nueva versión con consult draft submit; la aprobación comienza de nuevo sobre ella.",
                ],
                [*facts, ("Versión", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.CONCLUDED:
            return Wording(
                f"Acuerdo concluido — {title}",
                [
                    f"Todas las partes aprobaron la versión {notice.version} del acuerdo. Su texto final figura a continuación; su SHA-256 lo identifica."
                ],
                [*facts, ("Versión", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DECLINED:
            return Wording(
                f"Acuerdo rechazado — {title}",
                [
                    f"{notice.actor} rechazó la versión {notice.version} del acuerdo; la consulta termina aquí.",
                    f"Motivo: {notice.reason}",
                ],
                [*facts, ("Versión", str(notice.version)), ("SHA-256", notice.sha256 or "")],
            )
        case NoticeKind.DRAFTING_STARTED:
            return Wording(
                f"Comenzó la redacción del acuerdo — {title}",
                [f"{notice.actor} cerró las rondas técnicas; las secretarías están redactando el acuerdo."],
                facts,
            )


_BY_LOCALE: dict[Locale, Callable[[Notice], Wording]] = {Locale.EN: _en, Locale.ES: _es}

GREETING = {Locale.EN: "Dear {name},", Locale.ES: "Estimado/a {name}:"}
LINK_LABEL = {
    Locale.EN: {
        LinkPurpose.MINUTES_APPROVAL: "Open the page to approve, request changes or forward",
        LinkPurpose.PILLAR_INPUT: "Open the page to submit your party's input",
        LinkPurpose.AGREEMENT_APPROVAL: "Open the page to approve, request changes, decline or forward",
    },
    Locale.ES: {
        LinkPurpose.MINUTES_APPROVAL: "Abrir la página para aprobar, solicitar cambios o delegar",
        LinkPurpose.PILLAR_INPUT: "Abrir la página para enviar el aporte de su parte",
        LinkPurpose.AGREEMENT_APPROVAL: "Abrir la página para aprobar, solicitar cambios, rechazar o delegar",
    },
}
GREETING_UNNAMED = {Locale.EN: "Dear colleagues,", Locale.ES: "Estimados/as colegas:"}
FOOTER = {
    Locale.EN: "This message was sent by the consultation secretariat's orchestrator. Reference: {ref}",
    Locale.ES: "Este mensaje fue enviado por el sistema de la secretaría de la consulta. Referencia: {ref}",
}


def word(notice: Notice, locale: Locale) -> Wording:
    return _BY_LOCALE[locale](notice)

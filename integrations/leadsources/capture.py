"""What every lead channel shares on its way to crm.services.lead_capture."""

from common.errors import ApplicationError
from crm.models import Source
from crm.services import Captured, LeadIn, lead_capture
from customers.services import state_normalize

SET_ASIDE = {"invalid_phone": "phone", "invalid_email": "email"}  # lead_capture's error code -> LeadIn field


def state_code(value: str) -> str:
    """'Texas', 'texas' or 'TX' -> 'TX'."""
    return state_normalize(value)


def answers_text(answers: list[tuple[str, str]]) -> str:
    """Custom form questions and their answers, one per line, for the lead's message."""
    return "\n".join(f"{question}: {answer}" for question, answer in answers if answer)


def contact_from_answers(answers: list[tuple[str, str, str]], fields: dict[str, str]) -> LeadIn:
    """A provider's form as (key, question, answer): keys in `fields` fill the contact (the first answer
    wins), the other questions go to the message as "question: answer" lines."""
    known: dict[str, str] = {}
    custom = []
    for key, question, answer in answers:
        field = fields.get(key)
        if field is None:
            custom.append((question, answer))
        elif not known.get(field):
            known[field] = answer
    known["state"] = state_code(known.get("state", ""))
    return LeadIn(**known, message=answers_text(custom))


def join_message(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def channel_source(*, kind: str, slug: str, name: str) -> Source:
    """The first active source of this kind; created on the first lead when there is none."""
    found = Source.objects.filter(kind=kind, is_active=True).order_by("pk").first()
    if found:
        return found
    return Source.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})[0]


def lead_capture_lenient(*, contact: LeadIn, **kwargs) -> Captured:
    """For leads nobody will send again: a phone or e-mail we cannot read is kept in the message
    (and the lead's warnings) instead of refusing the whole lead, as long as one way to reach them is left."""
    for _ in SET_ASIDE:
        try:
            return lead_capture(contact=contact, **kwargs)
        except ApplicationError as error:
            if error.code not in SET_ASIDE:
                raise
            _set_aside(contact, SET_ASIDE[error.code], error.message)
    return lead_capture(contact=contact, **kwargs)


def _set_aside(contact: LeadIn, field: str, reason: str) -> None:
    written = getattr(contact, field)
    setattr(contact, field, "")
    contact.warnings.append(reason)
    contact.message = join_message(contact.message, f"{field.capitalize()} as given: {written}")

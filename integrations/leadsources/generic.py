"""The generic lead webhook (Zapier, Angi, Thumbtack, a partner's site): a flat JSON object per lead."""

from crm.models import Source
from crm.services import (
    ATTRIBUTION_KEYS,
    Forbidden,
    LeadIn,
    contact_address_line,
    source_for_key,
    unknown_fields_warnings,
)
from integrations.inbound import Accepted, inbound_accept

from .capture import state_code
from .http import first_of, text_fields

ACTOR_LABEL = "Zapier webhook"
CONTACT_KEYS = (
    "name", "first_name", "last_name", "phone", "email", "street", "address", "unit", "city", "state",
    "zip", "zip_code", "postal_code", "service", "message",
)  # fmt: skip
ID_KEYS = ("lead_id", "id", "external_id")
KNOWN_KEYS = frozenset(CONTACT_KEYS + ID_KEYS + ATTRIBUTION_KEYS)


def generic_source_authenticate(*, slug: str, raw_key: str) -> Source:
    """The active source behind the URL when the key is one of its live keys; 403 otherwise."""
    source = source_for_key(slug=slug, raw_key=raw_key)
    if source is None:
        raise Forbidden("Unknown source or invalid key.", code="invalid_key")
    return source


def generic_accept(*, source: Source, payload: dict, idempotency_key: str = "") -> Accepted:
    """Validate and store the delivery; a worker captures the lead (integrations.inbound)."""
    values = text_fields(payload, CONTACT_KEYS + ID_KEYS + ATTRIBUTION_KEYS)
    contact = _contact(values)
    contact.warnings.extend(unknown_fields_warnings(payload, KNOWN_KEYS))
    return inbound_accept(
        source=source,
        contact=contact,
        channel=ACTOR_LABEL,
        attribution={key: values[key] for key in ATTRIBUTION_KEYS if key in values},
        external_id=first_of(values, *ID_KEYS),
        idempotency_key=idempotency_key,
        raw_payload=payload,
    )


def _contact(values: dict[str, str]) -> LeadIn:
    """The lead's contact; a one-line `address` fills the street, city, state and ZIP not sent apart."""
    contact = LeadIn(
        name=values.get("name", ""),
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        phone=values.get("phone", ""),
        email=values.get("email", ""),
        street=values.get("street", ""),
        unit=values.get("unit", ""),
        city=values.get("city", ""),
        state=state_code(values.get("state", "")),
        zip_code=first_of(values, "zip", "zip_code", "postal_code"),
        service=values.get("service", ""),
        message=values.get("message", ""),
    )
    contact_address_line(contact, values.get("address", ""))
    return contact

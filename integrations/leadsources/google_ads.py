"""Google Ads lead form webhook: Google posts each lead with the key set on the form.

https://developers.google.com/google-ads/webhook/docs/implementation
"""

import hmac

from common.errors import ApplicationError
from crm.models import Source
from crm.services import Captured, Forbidden

from .capture import contact_from_answers, lead_capture_lenient
from .http import text_fields

ACTOR_LABEL = "Google Ads"
COLUMNS = {
    "FULL_NAME": "name",
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "PHONE_NUMBER": "phone",
    "WORK_PHONE": "phone",
    "EMAIL": "email",
    "WORK_EMAIL": "email",
    "STREET_ADDRESS": "street",
    "CITY": "city",
    "REGION": "state",
    "POSTAL_CODE": "zip_code",
}
ATTRIBUTION = {
    "campaign_id": "campaign_id",
    "adgroup_id": "adgroup_id",
    "form_id": "form_id",
    "creative_id": "ad_id",
    "gcl_id": "gclid",
}


def google_ads_source_authenticate(*, slug: str, payload: dict) -> Source:
    """The active source whose google_key the lead carries; 403 otherwise (an empty key refuses all)."""
    source = Source.objects.filter(slug=slug, is_active=True).first()
    sent = payload.get("google_key")
    expected = source.google_key if source else ""
    if not (expected and isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())):
        raise Forbidden("Unknown source or invalid google_key.", code="invalid_key")
    return source


def google_ads_capture(*, source: Source, payload: dict) -> Captured:
    """One lead form submission. A test lead (is_test) is held as spam: it proves the setup and
    nobody is sent a text or assigned to call it."""
    ids = text_fields(payload, ("lead_id", *ATTRIBUTION))
    if not ids.get("lead_id"):
        raise ApplicationError("lead_id is required.", field="lead_id", code="required")
    return lead_capture_lenient(
        source=source,
        contact=contact_from_answers(_columns(payload), COLUMNS),
        actor_label=ACTOR_LABEL,
        attribution={ours: ids[theirs] for theirs, ours in ATTRIBUTION.items() if theirs in ids},
        external_id=ids["lead_id"],
        raw_payload={key: value for key, value in payload.items() if key != "google_key"},
        spam=payload.get("is_test") is True,
    )


def _columns(payload: dict) -> list[tuple[str, str, str]]:
    """(COLUMN_ID, question, answer) for each column, or a 400 naming the malformed one."""
    columns = payload.get("user_column_data")
    if not isinstance(columns, list):
        raise ApplicationError("user_column_data must be a list.", field="user_column_data")
    found = []
    for i, column in enumerate(columns):
        where = f"user_column_data[{i}]"
        if not isinstance(column, dict):
            raise ApplicationError(f"{where} must be an object.", field=where)
        values = text_fields(column, ("column_id", "column_name", "string_value"), where=f"{where}.")
        column_id = values.get("column_id", "")
        question = values.get("column_name") or column_id
        found.append((column_id.upper(), question, values.get("string_value", "")))
    return found

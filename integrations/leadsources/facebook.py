"""Facebook Lead Ads: Meta notifies us of a lead's id (signed); a task fetches the lead from the Graph API.

https://developers.facebook.com/docs/graph-api/webhooks/getting-started
https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving
"""

import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import quote, urlencode

from django.conf import settings

from common.errors import ApplicationError
from crm.models import Lead, Source
from crm.services import Captured

from .capture import channel_source, contact_from_answers, lead_capture_lenient
from .client import ProviderError, request_json
from .http import is_text

ACTOR_LABEL = "Facebook"
GRAPH_FIELDS = "field_data,created_time,ad_id,form_id,campaign_id"
NOTIFICATION_IDS = ("page_id", "form_id", "adgroup_id", "ad_id")
FIELDS = {
    "full_name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone_number": "phone",
    "email": "email",
    "street_address": "street",
    "city": "city",
    "state": "state",
    "province": "state",
    "zip_code": "zip_code",
    "post_code": "zip_code",
}


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def subscription_verified(*, mode: str, token: str) -> bool:
    """Meta's handshake when the webhook is set up; an unset FACEBOOK_VERIFY_TOKEN refuses it."""
    return mode == "subscribe" and _same(token, settings.FACEBOOK_VERIFY_TOKEN)


def signature_valid(*, body: bytes, header: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256(app secret, raw body); no secret, no entry."""
    secret = settings.FACEBOOK_APP_SECRET
    if not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _same(header, expected)


def leadgen_notifications(payload: dict) -> list[dict[str, str]]:
    """The leadgen changes of a page notification as {"leadgen_id", "page_id", ...}; a 400 when malformed."""
    if payload.get("object") != "page":
        return []
    found = []
    for i, entry in enumerate(_objects(payload, "entry", "entry")):
        for j, change in enumerate(_objects(entry, "changes", f"entry[{i}].changes")):
            if change.get("field") == "leadgen":
                found.append(_leadgen(change.get("value"), f"entry[{i}].changes[{j}].value"))
    return found


def _objects(parent: dict, key: str, where: str) -> list[dict]:
    items = parent.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ApplicationError(f"{where} must be a list of objects.", field=where)
    return items


def _leadgen(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ApplicationError(f"{where} must be an object.", field=where)
    leadgen_id = value.get("leadgen_id")
    if not is_text(leadgen_id) or not re.fullmatch(r"[0-9]{1,30}", str(leadgen_id)):
        raise ApplicationError(f"{where}.leadgen_id must be a numeric id.", field=f"{where}.leadgen_id")
    ids = {key: str(value[key]) for key in NOTIFICATION_IDS if is_text(value.get(key))}
    return {"leadgen_id": str(leadgen_id), **ids}


# --- Fetching and capturing (in a Celery task) -------------------------------------------------------


def facebook_source() -> Source:
    return channel_source(kind=Source.Kind.FACEBOOK, slug="facebook", name="Facebook lead ads")


def facebook_lead_import(*, leadgen_id: str, notification: dict | None = None) -> Captured:
    """Fetch a notified lead from the Graph API and capture it; a lead already captured is not fetched."""
    source = facebook_source()
    existing = Lead.objects.filter(source=source, external_id=leadgen_id).first()
    if existing:
        return Captured(existing, False)
    lead = graph_lead_fetch(leadgen_id=leadgen_id)
    notification = notification or {}
    ids = {key: str(lead[key]) for key in ("ad_id", "form_id", "campaign_id") if is_text(lead.get(key))}
    return lead_capture_lenient(
        source=source,
        contact=contact_from_answers(_field_data(lead), FIELDS),
        actor_label=ACTOR_LABEL,
        attribution={**notification, **ids},  # lead_capture keeps the attribution keys (not page_id)
        external_id=leadgen_id,
        raw_payload={"notification": notification, "lead": lead},
        arrived_at=_created_time(lead.get("created_time")),
    )


def graph_lead_fetch(*, leadgen_id: str) -> dict:
    token = settings.FACEBOOK_PAGE_ACCESS_TOKEN
    if not token:
        raise ProviderError("FACEBOOK_PAGE_ACCESS_TOKEN is not set.", retryable=False)
    query = {"access_token": token, "fields": GRAPH_FIELDS}
    if settings.FACEBOOK_APP_SECRET:
        # Required when the app enables "Require App Secret"; harmless otherwise.
        proof = hmac.new(settings.FACEBOOK_APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        query["appsecret_proof"] = proof
    base = settings.FACEBOOK_GRAPH_BASE_URL.rstrip("/")
    return request_json(f"{base}/{quote(leadgen_id, safe='')}?{urlencode(query)}")


def _field_data(lead: dict) -> list[tuple[str, str, str]]:
    """(name, question, answer); several values (multiple choice) are joined with commas."""
    fields = lead.get("field_data", [])
    if not isinstance(fields, list):
        raise ProviderError("The Graph API answered a lead without a field_data list.", retryable=False)
    pairs = []
    for item in fields:
        values = item.get("values") if isinstance(item, dict) else None
        if not (isinstance(item, dict) and is_text(item.get("name")) and isinstance(values, list)):
            raise ProviderError("The Graph API answered malformed field_data.", retryable=False)
        name = str(item["name"])
        answer = ", ".join(str(v).strip() for v in values if is_text(v))
        pairs.append((name.lower(), name.replace("_", " ").strip().capitalize(), answer))
    return pairs


def _created_time(value) -> datetime | None:
    """Graph times look like 2026-11-20T10:01:02+0000."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None

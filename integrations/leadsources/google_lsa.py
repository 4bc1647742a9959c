"""Google Local Services Ads: polled from the Google Ads API (LSA has no webhook).

https://developers.google.com/google-ads/api/docs/local-services/leads
"""

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from common.errors import ApplicationError
from crm.models import Source
from crm.services import Captured, LeadIn
from users.models import Business

from .capture import channel_source, lead_capture_lenient
from .client import ProviderError, request_json

logger = logging.getLogger(__name__)

ACTOR_LABEL = "Google LSA"
CURSOR_KEY = "google-lsa-cursor"
LOCK_KEY = "google-lsa-polling"
LAST_RUN_KEY = "google-lsa-last-run"
FIRST_POLL_LOOKBACK = timedelta(days=1)
CURSOR_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
QUERY = (
    "SELECT local_services_lead.id, local_services_lead.lead_type, local_services_lead.category_id, "
    "local_services_lead.service_id, local_services_lead.contact_details, "
    "local_services_lead.creation_date_time, local_services_lead.lead_status "
    "FROM local_services_lead WHERE local_services_lead.creation_date_time > '{cursor}' "
    "ORDER BY local_services_lead.creation_date_time"
)


def lsa_source() -> Source:
    return channel_source(kind=Source.Kind.GOOGLE_LSA, slug="google-lsa", name="Google Local Services")


def lsa_poll_if_due() -> int:
    """Poll at most once per GOOGLE_LSA_POLL_SECONDS, and never twice at once (a short lock)."""
    now = timezone.now()
    last = cache.get(LAST_RUN_KEY)
    if last and now - datetime.fromisoformat(last) < timedelta(seconds=settings.GOOGLE_LSA_POLL_SECONDS):
        return 0
    if not cache.add(LOCK_KEY, now.isoformat(), timeout=300):
        return 0  # another worker is polling right now
    try:
        cache.set(LAST_RUN_KEY, now.isoformat(), timeout=None)
        return lsa_poll()
    finally:
        cache.delete(LOCK_KEY)


def lsa_poll() -> int:
    """Capture the leads created since the cursor; the cursor moves past each lead as it is captured.
    Returns how many leads were new. A lead seen twice is harmless: its id dedupes it."""
    source = lsa_source()
    created = 0
    for lead in _leads_since(lsa_cursor()):
        captured = _capture(source, lead)
        created += bool(captured and captured.created)
        cursor = _text(lead.get("creationDateTime"))[:19]  # to the second: the last lead comes again, deduped
        if CURSOR_FORMAT.fullmatch(cursor) and cursor > lsa_cursor():
            cache.set(CURSOR_KEY, cursor, timeout=None)
    return created


def lsa_cursor() -> str:
    """The creation time of the last lead captured, in the Ads account's time zone, as the API writes it."""
    cursor = cache.get(CURSOR_KEY)
    if isinstance(cursor, str) and CURSOR_FORMAT.fullmatch(cursor):
        return cursor
    start = timezone.localtime(timezone.now() - FIRST_POLL_LOOKBACK, Business.current().tzinfo)
    return start.strftime("%Y-%m-%d %H:%M:%S")


def _leads_since(cursor: str) -> Iterator[dict]:
    body = {"query": QUERY.format(cursor=cursor)}
    while True:
        page = request_json(_search_url(), headers=_headers(), body=body)
        results = page.get("results", [])
        if not isinstance(results, list):
            raise ProviderError("googleAds:search answered results that are not a list.", retryable=False)
        for result in results:
            lead = result.get("localServicesLead") if isinstance(result, dict) else None
            if isinstance(lead, dict):
                yield lead
        token = page.get("nextPageToken")
        if not (isinstance(token, str) and token):
            return
        body = {**body, "pageToken": token}


def _search_url() -> str:
    customer_id = _digits(settings.GOOGLE_ADS_CUSTOMER_ID)
    if not customer_id:
        raise ProviderError("GOOGLE_ADS_CUSTOMER_ID is not set.", retryable=False)
    return f"{settings.GOOGLE_ADS_API_BASE_URL.rstrip('/')}/customers/{customer_id}/googleAds:search"


def _headers() -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {settings.GOOGLE_ADS_ACCESS_TOKEN}",
        "developer-token": settings.GOOGLE_ADS_DEVELOPER_TOKEN,
    }
    if settings.GOOGLE_ADS_LOGIN_CUSTOMER_ID:
        headers["login-customer-id"] = _digits(settings.GOOGLE_ADS_LOGIN_CUSTOMER_ID)
    return headers


def _digits(value: str) -> str:
    """Customer ids are written 123-456-7890 in the Ads UI; the API wants 1234567890."""
    return re.sub(r"\D", "", value)


def _capture(source: Source, lead: dict) -> Captured | None:
    lead_id = str(lead.get("id", "")).strip()
    try:
        return lead_capture_lenient(
            source=source,
            contact=_contact(lead),
            actor_label=ACTOR_LABEL,
            external_id=lead_id,
            raw_payload=lead,
            arrived_at=_created_at(lead.get("creationDateTime")),
        )
    except ApplicationError as error:
        # No way to reach the person (a message lead without contact details): skip it, keep polling.
        logger.warning("Google LSA lead %s not captured: %s", lead_id, error.message)
        return None


def _contact(lead: dict) -> LeadIn:
    details = lead.get("contactDetails")
    details = details if isinstance(details, dict) else {}
    lead_type = _humanize(lead.get("leadType"))
    return LeadIn(
        name=_text(details.get("consumerName")),
        phone=_text(details.get("phoneNumber")),
        email=_text(details.get("email")),
        service=_humanize(lead.get("serviceId")),
        message=f"{lead_type} lead from Google Local Services." if lead_type else "",
    )


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _humanize(value) -> str:
    """ "drain_cleaning" -> "Drain cleaning", "PHONE_CALL" -> "Phone call"."""
    return _text(value).replace("_", " ").capitalize()


def _created_at(value) -> datetime | None:
    """creationDateTime is written in the Ads account's time zone, taken to be the business's."""
    try:
        naive = datetime.fromisoformat(_text(value))
    except ValueError:
        return None
    if timezone.is_aware(naive):
        return naive
    return timezone.make_aware(naive, Business.current().tzinfo)

"""Is this request really from Twilio? The X-Twilio-Signature header, checked against the public URL.

Twilio signs the URL it called, so behind a proxy or a tunnel the URL is rebuilt from PUBLIC_BASE_URL
(the address configured in the Twilio console), never from the Host header the proxy forwards.
"""

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path (+ "?" + query string)."""
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.path
    query = request.META.get("QUERY_STRING", "")
    return f"{url}?{query}" if query else url


def signature_valid(request: HttpRequest) -> bool:
    """True only for a request signed with TWILIO_AUTH_TOKEN; no token configured means no request is."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(request), request.POST, signature)

"""The SMS transport of the outbox (messaging.outbox), and the providers behind it.

`SmsTransport` is what settings.MESSAGING_TRANSPORTS["sms"] names. It sends through the provider
SMS_BACKEND names: `console` (the default) sends nothing and is for development; `twilio` is the real
SDK, pointed at TWILIO_API_BASE_URL when it is set (tests run it against a local fake Twilio server); a
dotted path names any other class with the same two methods. Errors are messaging's TransportError.
"""

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Protocol

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from messaging.models import Message
from messaging.outbox import LOOKBACK
from messaging.transports import SendResult, TransportError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20  # well under the outbox's send lease (messaging.outbox.SEND_LEASE)
OPTED_OUT = 21610
NOT_MOBILE = frozenset({21614, 30006})
INVALID_NUMBER = 21211
PERMANENT_CODES = frozenset({OPTED_OUT, INVALID_NUMBER, *NOT_MOBILE})
# What a permanent error says about the number, for the consent ledger.
CONSENT_CODES = {OPTED_OUT: "opted_out", **dict.fromkeys(NOT_MOBILE, "not_textable")}


class SmsProvider(Protocol):
    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> SendResult: ...

    def find_sent(
        self, *, to: str, from_: str, body: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> str | None: ...


class ConsoleBackend:
    """Development: nothing leaves the machine; the text is logged and shown in the app."""

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> SendResult:
        logger.info("SMS (console) %s -> %s: %s", from_, to, body)
        return SendResult(sid=f"SMconsole{uuid.uuid4().hex}", status="sent")

    def find_sent(self, *, to, from_, body, since, exclude=frozenset()) -> str | None:
        return None


class TwilioBackend:
    def __init__(self):
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
        )
        if settings.TWILIO_API_BASE_URL:
            # Every Api v2010 request (Messages included) is built from this domain's base_url.
            self.client.api.base_url = settings.TWILIO_API_BASE_URL

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> SendResult:
        try:
            sent = self.client.messages.create(to=to, from_=from_, body=body, status_callback=status_callback)
        except Exception as exc:
            raise _as_sms_error(exc, after_request=True) from exc
        return SendResult(sid=sent.sid, status=str(sent.status or ""))

    def find_sent(
        self, *, to: str, from_: str, body: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> str | None:
        """The sid of a text with this body to `to` sent since `since`, that is not one of `exclude`."""
        try:
            found = self.client.messages.list(
                to=to, from_=from_, date_sent_after=since.astimezone(UTC), limit=50
            )
        except Exception as exc:
            raise _as_sms_error(exc, after_request=False) from exc
        wanted = body.strip()
        return next((m.sid for m in found if (m.body or "").strip() == wanted and m.sid not in exclude), None)


def _as_sms_error(exc: Exception, *, after_request: bool) -> Exception:
    if isinstance(exc, TwilioException) and hasattr(exc, "status"):
        status, code = int(exc.status or 0), getattr(exc, "code", None)
        text = getattr(exc, "msg", "") or getattr(exc, "detail", "") or str(exc)
        if code in PERMANENT_CODES:
            return TransportError(text, code, retryable=False, consent=CONSENT_CODES.get(code, ""))
        return TransportError(text, code or status, retryable=status == 429 or status >= 500)
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return TransportError(f"Could not reach Twilio: {exc}", retryable=True)
    if isinstance(exc, requests.exceptions.RequestException):
        # A read timeout or a dropped connection: Twilio may have accepted the text.
        return TransportError(f"No answer from Twilio: {exc}", retryable=True, maybe_sent=after_request)
    return exc


BACKENDS = {"console": ConsoleBackend, "twilio": TwilioBackend}


class SmsTransport:
    """Texts: SMS_MAX_ATTEMPTS attempts, 5, 10, 20 ... s apart; "did it go out?" asks the provider for
    a text with this body to this number since a minute before the row was created."""

    def max_attempts(self) -> int:
        return settings.SMS_MAX_ATTEMPTS

    def backoff_seconds(self, attempts: int) -> int:
        return 5 * 2 ** max(attempts - 1, 0)

    def send(self, message: Message) -> SendResult:
        return get_backend().send(
            to=message.to_number,
            from_=message.from_number or settings.TWILIO_PHONE_NUMBER,
            body=message.body,
            status_callback=status_callback_url(),
        )

    def find_sent(self, message: Message, *, exclude: frozenset[str]) -> str | None:
        return get_backend().find_sent(
            to=message.to_number,
            from_=message.from_number or settings.TWILIO_PHONE_NUMBER,
            body=message.body,
            since=message.created_at - LOOKBACK,
            exclude=exclude,
        )


def status_callback_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/integrations/twilio/status/"


_per_thread = threading.local()


def get_backend() -> SmsProvider:
    """The configured backend, one per thread and configuration: a Twilio client keeps its HTTP
    session (and the connection to Twilio) from one send to the next; requests sessions are not
    shared between threads."""
    key = (
        settings.SMS_BACKEND,
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
    )
    cached = getattr(_per_thread, "backend", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        backend = BACKENDS.get(settings.SMS_BACKEND) or import_string(settings.SMS_BACKEND)
    except ImportError:
        raise TransportError(f"Unknown SMS_BACKEND {settings.SMS_BACKEND!r}", retryable=False) from None
    backend = backend()
    _per_thread.backend = (key, backend)
    return backend

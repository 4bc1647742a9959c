"""The SMS providers behind one small interface: `send` and `find_sent`, raising `SmsError`.

`console` (the default) sends nothing and is for development; `twilio` is the real SDK, pointed at
TWILIO_API_BASE_URL when it is set (tests run it against a local fake Twilio server).
"""

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20  # well under the send lease (services.SEND_LEASE)
OPTED_OUT = 21610
NOT_MOBILE = frozenset({21614, 30006})
INVALID_NUMBER = 21211
PERMANENT_CODES = frozenset({OPTED_OUT, INVALID_NUMBER, *NOT_MOBILE})


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class SmsError(Exception):
    """A send that did not go through. `retryable`: a later attempt may succeed. `maybe_sent`: the
    request may have reached the provider (a timeout, a dropped connection), so look before resending."""

    def __init__(self, message: str, code: str = "", *, retryable: bool, maybe_sent: bool = False):
        super().__init__(message)
        self.message, self.code, self.retryable, self.maybe_sent = (
            message,
            str(code or ""),
            retryable,
            maybe_sent,
        )


class SmsBackend(Protocol):
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
            return SmsError(text, code, retryable=False)
        return SmsError(text, code or status, retryable=status == 429 or status >= 500)
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return SmsError(f"Could not reach Twilio: {exc}", retryable=True)
    if isinstance(exc, requests.exceptions.RequestException):
        # A read timeout or a dropped connection: Twilio may have accepted the text.
        return SmsError(f"No answer from Twilio: {exc}", retryable=True, maybe_sent=after_request)
    return exc


BACKENDS = {"console": ConsoleBackend, "twilio": TwilioBackend}


_per_thread = threading.local()


def get_backend() -> SmsBackend:
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
        backend = BACKENDS[settings.SMS_BACKEND]()
    except KeyError:
        raise SmsError(f"Unknown SMS_BACKEND {settings.SMS_BACKEND!r}", retryable=False) from None
    _per_thread.backend = (key, backend)
    return backend

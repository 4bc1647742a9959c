"""The e-mail transport of the outbox (messaging.outbox): Django's mail backend, which is SMTP or an
ESP through django-anymail (EMAIL_BACKEND).

An interrupted send is never sent twice and never marked failed for it: every e-mail carries a
Message-ID made from the row's send key (`<send_key@domain>`, fixed per row), so the resend that
follows an interruption is the same message, and mail systems keep one message per Message-ID. SMTP
has no "did it already go out?" lookup, so `find_sent` answers None and the outbox resends.
"""

import hashlib

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage

from messaging.models import Message
from messaging.transports import SendResult, TransportError

MAX_ATTEMPTS = 5


def provider_sid_for(message_id: str) -> str:
    """'email:' + the Message-ID header, hashed when it would not fit Message.provider_sid (64)."""
    message_id = (message_id or "").strip()
    sid = f"email:{message_id}"
    if len(sid) <= 64:
        return sid
    return "email:sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:51]


def message_id_header(message: Message) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    return f"<{message.send_key}@{domain}>"


class EmailTransport:
    """E-mails: EMAIL_MAX_ATTEMPTS attempts (5), 30 s, 1, 2, 4 min apart."""

    def max_attempts(self) -> int:
        return getattr(settings, "EMAIL_MAX_ATTEMPTS", MAX_ATTEMPTS)

    def backoff_seconds(self, attempts: int) -> int:
        return 30 * 2 ** max(attempts - 1, 0)

    def send(self, message: Message) -> SendResult:
        if not message.to_email:
            raise TransportError("No e-mail address on this message.", "no-address", retryable=False)
        header_id = message_id_header(message)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to_email],
            reply_to=[settings.DEFAULT_FROM_EMAIL],
            headers={"Message-ID": header_id},
        )
        try:
            sent = email.send(fail_silently=False)
        except Exception as error:  # SMTP, network and every ESP error (anymail) end here
            raise _as_transport_error(error) from error
        if not sent:
            raise TransportError("The mail backend sent nothing.", retryable=True)
        return SendResult(sid=provider_sid_for(header_id))

    def find_sent(self, message: Message, *, exclude: frozenset[str]) -> str | None:
        return None  # no lookup: the resend carries the same Message-ID (see the module's docstring)


def _as_transport_error(error: Exception) -> TransportError:
    permanent = isinstance(error, AnymailInvalidAddress | AnymailRecipientsRefused)
    return TransportError(f"{type(error).__name__}: {error}", retryable=not permanent)

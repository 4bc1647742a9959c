"""The channel interface the outbox sends through, and how a channel's transport is chosen.

A transport takes one committed outbound Message and hands it to its provider. It never writes the row:
the outbox engine (messaging.outbox) owns the state. Transports are chosen by dotted path in
settings.MESSAGING_TRANSPORTS, the way Django's EMAIL_BACKEND is, so messaging never imports the
integrations that implement them (SMS through Twilio, e-mail through Django's mail backends).
"""

import threading
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Message


@dataclass(frozen=True)
class SendResult:
    sid: str  # the provider's id for what it accepted: unique per message (Message.provider_sid)
    status: str = ""  # what the provider said it did with it (e.g. Twilio's "queued"), for the log


class TransportError(Exception):
    """A send that did not go through. `retryable`: a later attempt may succeed. `maybe_sent`: the
    request may have reached the provider (a timeout, a dropped connection), so the next attempt asks
    `find_sent` before it sends. `consent`: what the provider's answer says about the recipient
    ("opted_out", "not_textable"), written to the consent ledger by the outbox."""

    def __init__(
        self, message: str, code: str = "", *, retryable: bool, maybe_sent: bool = False, consent: str = ""
    ):
        super().__init__(message)
        self.message, self.code = message, str(code or "")
        self.retryable, self.maybe_sent, self.consent = retryable, maybe_sent, consent
        self.retry_in = 0  # seconds until the next attempt, set by the outbox when it re-raises


class Transport(Protocol):
    """One channel's way out. `send` raises TransportError; `find_sent` answers "did it already go
    out?" for a send that was interrupted (the provider's id, or None when it did not or cannot tell
    and a resend is harmless), raising a retryable TransportError when it cannot ask right now."""

    def max_attempts(self) -> int: ...

    def backoff_seconds(self, attempts: int) -> int: ...

    def send(self, message: Message) -> SendResult: ...

    def find_sent(self, message: Message, *, exclude: frozenset[str]) -> str | None: ...


class ChatTransport:
    """Web chat: the visitor's widget reads the office's lines from the conversation when it polls, so
    a line is delivered by being marked sent; nothing leaves the machine. Its id is the row's send key,
    so an interrupted send finds itself and is never shown twice."""

    def max_attempts(self) -> int:
        return 3

    def backoff_seconds(self, attempts: int) -> int:
        return 2 * 2 ** max(attempts - 1, 0)

    def send(self, message: Message) -> SendResult:
        if message.conversation_id is None:
            raise TransportError("A chat line needs the visitor's conversation.", retryable=False)
        return SendResult(sid=self.sid(message))

    def find_sent(self, message: Message, *, exclude: frozenset[str]) -> str | None:
        return None  # nothing was handed over anywhere: sending again is the first delivery

    @staticmethod
    def sid(message: Message) -> str:
        return f"chat:{message.send_key}"


_per_thread = threading.local()


def transport_for(channel: str) -> Transport:
    """The configured transport of `channel`, one per thread and path (a provider's client keeps its
    HTTP session between sends; requests sessions are not shared between threads)."""
    try:
        path = settings.MESSAGING_TRANSPORTS[channel]
    except KeyError:
        raise TransportError(
            f"No transport is configured for {channel!r} messages.", retryable=False
        ) from None
    cache = getattr(_per_thread, "transports", None)
    if cache is None:
        cache = _per_thread.transports = {}
    if path not in cache:
        try:
            cache[path] = import_string(path)()
        except ImportError as error:
            raise TransportError(f"MESSAGING_TRANSPORTS[{channel!r}]: {error}", retryable=False) from None
    return cache[path]

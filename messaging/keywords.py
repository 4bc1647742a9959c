"""What an inbound text asks for, and our answer: an exact keyword (STOP, START, HELP) or a revocation in
a sentence.

Keywords match the WHOLE trimmed message, case-insensitively ("Stop" and "STOP." opt out; "stop by
tomorrow" does not). A sentence that asks us to stop texting is a revocation: it does not opt the number
out by itself, it holds automated and marketing texts until a person reads it and clears the flag.
"""

import re
from enum import StrEnum

from customers import services as customer_services
from customers.models import ConsentEvent
from users.models import Business

from . import services as messaging
from .models import Message, MessagingSettings


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    REVOCATION = "revocation"


STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
START_WORDS = frozenset({"start", "yes", "unstop"})
HELP_WORDS = frozenset({"help"})

_TEXT = r"(?:texts?|txts?|messages?|msgs?|sms)"
REVOCATION_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*(?:please\s+)?stop(?:\s+please)?[\s.!]*$",
        r"\bstop\s+(?:texting|txting|messaging|msging|contacting)\b",
        rf"\bstop\s+sending\s+(?:me\s+)?(?:any\s+)?(?:more\s+)?(?:{_TEXT}|these|this)\b",
        rf"\bno\s+more\s+{_TEXT}\b",
        r"\b(?:don'?t|do\s+not)\s+(?:text|txt|message|msg|contact)\s+(?:me|us|this\s+number)\b",
        r"\bunsubscribe\b",
        r"\bopt\s*(?:me\s+)?out\b",
        r"\bno\s+m[aá]s\b",
        rf"\b(?:remove|take)\s+me\s+(?:off|from)\s+(?:of\s+)?(?:your|the|this)\s+(?:list|{_TEXT})\b",
    )
)


def _whole(text: str) -> str:
    """The message as one word: trimmed, lower-cased, without trailing '.' or '!'."""
    return text.strip().rstrip(".! ").lower()


def intent_of(text: str) -> Intent | None:
    """The keyword or revocation this message carries, if any."""
    word = _whole(text or "")
    if word in STOP_WORDS:
        return Intent.STOP
    if word in START_WORDS:
        return Intent.START
    if word in HELP_WORDS:
        return Intent.HELP
    if reads_as_revocation(text or ""):
        return Intent.REVOCATION
    return None


def reads_as_revocation(text: str) -> bool:
    normalized = text.replace("\u2019", "'").replace("\u2018", "'")
    return any(pattern.search(normalized) for pattern in REVOCATION_PATTERNS)


def keyword_handle(*, message: Message) -> Intent | None:
    """STOP / START change consent and confirm; HELP answers; a revocation in a sentence flags the
    number. The confirmations are keyword texts: they go out even to a number that just opted out."""
    intent = intent_of(message.body)
    number = messaging.phone_or_blank(message.from_number)
    if intent is None or not number:
        return intent
    evidence = {"message_sid": message.provider_sid, "text": message.body[:500]}
    if intent == Intent.REVOCATION:
        customer_services.consent_record(
            number=number,
            state=ConsentEvent.State.REVOCATION_FLAGGED,
            method=ConsentEvent.Method.MESSAGE,
            evidence=evidence,
        )
        return intent
    if intent in (Intent.STOP, Intent.START):
        state = ConsentEvent.State.OPTED_OUT if intent == Intent.STOP else ConsentEvent.State.OPTED_IN
        customer_services.consent_record(
            number=number, state=state, method=ConsentEvent.Method.KEYWORD, evidence=evidence
        )
    messaging.message_queue_quietly(
        to=number,
        body=_keyword_reply(intent, message),
        purpose=Message.Purpose.KEYWORD,
        template=f"keyword_{intent}",
        customer=message.customer,
        lead=message.lead,
    )
    return intent


def _keyword_reply(intent: Intent, message: Message) -> str:
    name = Business.current().name
    if intent == Intent.STOP:
        return (
            f"You're unsubscribed from {name}. You will not receive more texts. Reply START to resubscribe."
        )
    if intent == Intent.START:
        return f"You're resubscribed to {name} texts. Reply HELP for help, STOP to unsubscribe."
    template = MessagingSettings.current().help_template
    return messaging.render_template(template, customer=message.customer)

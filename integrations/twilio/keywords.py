"""What an inbound text asks for: an exact keyword (STOP, START, HELP) or a revocation in a sentence.

Keywords match the WHOLE trimmed message, case-insensitively ("Stop" and "STOP." opt out; "stop by
tomorrow" does not). A sentence that asks us to stop texting is a revocation: it does not opt the number
out by itself, it holds automated and marketing texts until a person reads it and clears the flag.
"""

import re
from enum import StrEnum


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

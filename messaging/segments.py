"""How many SMS segments a text takes: what the composer shows and what the carrier bills.

A text of GSM 03.38 characters goes as GSM-7: 160 septets in one segment, 153 per part when split (the
other 7 carry the part header). A character of the extension table (^ { } \\ [ ~ ] | € and form feed)
is an escape plus the character: 2 septets, and a pair is never split across parts. Any other
character (an emoji, most accents, curly quotes) turns the whole text to UCS-2: 70 UTF-16 code units
in one segment, 67 per part, an emoji being 2 units that stay in one part.

static/js/sms-segments.js counts the same way in the browser (tests/e2e/test_sms_segments.py checks
that they agree).
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}  # (one segment, each part of a longer text)


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int  # 0 for an empty text
    remaining: int  # units still free in the current (last) segment


def segment_count(text: str) -> SegmentCount:
    """The encoding, size and segments of `text`, e.g. 161 plain letters: GSM-7, 161, 2, 145 left."""
    encoding = "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text) else "UCS-2"
    costs = [_cost(ch, encoding) for ch in text]
    single, part = LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0, single - units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:  # an escape pair or a surrogate pair starts the next part whole
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(encoding, units, segments, part - used)


def _cost(ch: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1

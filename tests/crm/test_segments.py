"""SMS segments (messaging.segments): GSM-7 160 / 153 per part, UCS-2 70 / 67 per part."""

import pytest

from messaging.segments import SegmentCount, segment_count


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("", 0, 0),
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 153 * 2, 306, 2),
        ("a" * (153 * 2 + 1), 307, 3),
    ],
)
def test_plain_text_is_gsm7_160_alone_and_153_per_part(text, units, segments):
    count = segment_count(text)
    assert (count.encoding, count.units, count.segments) == ("GSM-7", units, segments)


def test_what_is_left_in_the_current_segment():
    assert segment_count("Hi") == SegmentCount("GSM-7", 2, 1, 158)
    assert segment_count("a" * 161) == SegmentCount("GSM-7", 161, 2, 153 - 8)


def test_gsm7_accents_and_greek_letters_stay_gsm7():
    assert segment_count("Café à Zürich? ñ, è, Ø, Δ, ¿, £5").encoding == "GSM-7"
    assert segment_count("São Paulo").encoding == "UCS-2"  # ã is not in GSM 03.38


def test_an_extension_character_takes_two_septets():
    assert segment_count("€" * 80) == SegmentCount("GSM-7", 160, 1, 0)
    assert segment_count("€" * 81).segments == 2
    assert segment_count("^{}\\[~]|€").units == 18


def test_an_escape_pair_is_never_split_across_parts():
    # 152 letters then an escape pair: 154 septets, so 2 parts; the pair cannot take the 153rd place,
    # so the first part holds 152 and the second starts with the pair.
    count = segment_count("a" * 152 + "€" + "a" * 10)
    assert (count.units, count.segments, count.remaining) == (164, 2, 153 - 12)


def test_one_emoji_makes_the_whole_text_ucs2_and_counts_two():
    plain = "Your tech is on the way"
    assert segment_count(plain).encoding == "GSM-7"
    count = segment_count(plain + " 👍")
    assert (count.encoding, count.units) == ("UCS-2", len(plain) + 3)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("ê" * 67 * 2, 2),
        ("ê" * (67 * 2 + 1), 3),
        ("😀" * 35, 1),  # 70 units
        ("😀" * 36, 2),
    ],
)
def test_ucs2_is_70_alone_and_67_per_part(text, segments):
    count = segment_count(text)
    assert (count.encoding, count.segments) == ("UCS-2", segments)


def test_an_emoji_is_never_split_across_parts():
    count = segment_count("ê" * 66 + "😀" + "ê" * 10)  # the emoji cannot take the 67th unit
    assert (count.units, count.segments, count.remaining) == (78, 2, 67 - 12)


def test_curly_quotes_are_not_gsm7():
    assert segment_count("We\u2019ll be there").encoding == "UCS-2"  # a right single quotation mark

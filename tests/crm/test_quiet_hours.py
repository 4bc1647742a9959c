"""Quiet hours by the recipient's location (messaging.quiet_hours): state rules, where the recipient is, the
10-minute exemption, the rule kept on a held text, and the release across daylight-saving changes."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from customers.services import PropertyIn, consent_record
from messaging import quiet_hours
from messaging import services as messaging
from messaging.models import Call, Message, MessagingSettings
from messaging.quiet_hours import quiet_hours_release, recipient_location, release_at
from tests.factories import make_customer

TEXAS = "+15125550199"  # area code 512: Austin
CONNECTICUT = "+12035550123"  # 203
ILLINOIS = "+13125550123"  # 312: Chicago, default rule
TOLL_FREE = "+18005550123"  # no place at all
STRICTEST_TEXT = (
    "Strictest: 9:00-20:00 Mon-Sat, 12:00-20:00 Sun "
    "(location unknown, every zone America/New_York to America/Los_Angeles)"
)


def at(text: str) -> datetime:
    """'2026-11-20 22:15 -06:00' -> an aware datetime."""
    return datetime.fromisoformat(text)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hold(now: datetime, number: str = TEXAS, customer=None, purpose: str = "automated"):
    return quiet_hours_release(now=now, number=number, customer=customer, purpose=purpose)


def customer_at(zip_code: str, state: str, *, phone: str = TEXAS, time_zone: str = ""):
    prop = PropertyIn(street="1 Main St", city="Town", state=state, zip_code=zip_code, time_zone=time_zone)
    return make_customer(phones=[phone], properties=[prop])


# --- State rules ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_persons_reply_and_a_keyword_confirmation_are_never_held(business):
    midnight = at("2026-11-21 00:00 -06:00")
    assert hold(midnight, purpose="care") is None
    assert hold(midnight, purpose="keyword") is None
    assert hold(midnight, purpose="marketing") is not None


@pytest.mark.django_db
def test_the_default_window_is_8_to_21(business):
    customer = customer_at("60601", "IL")
    assert hold(at("2026-11-20 08:00 -06:00"), customer=customer) is None
    assert hold(at("2026-11-20 20:59 -06:00"), customer=customer) is None
    release, rule = hold(at("2026-11-20 07:59 -06:00"), customer=customer)
    assert release == utc(2026, 11, 20, 14, 0)
    assert rule == "IL (default): 8:00-21:00 daily (property ZIP 60601, America/Chicago)"
    assert hold(at("2026-11-20 21:00 -06:00"), customer=customer)[0] == utc(2026, 11, 21, 14, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "zip_code", "offset"),
    [("FL", "33101", "-05:00"), ("MD", "21201", "-05:00"), ("MS", "39201", "-06:00"),
     ("NJ", "07102", "-05:00"), ("OK", "73102", "-06:00")],
)  # fmt: skip
def test_florida_maryland_mississippi_new_jersey_and_oklahoma_stop_at_20(business, state, zip_code, offset):
    customer = customer_at(zip_code, state)
    assert hold(at(f"2026-11-20 19:59 {offset}"), customer=customer) is None
    assert hold(at(f"2026-11-20 08:00 {offset}"), customer=customer) is None
    release, rule = hold(at(f"2026-11-20 20:00 {offset}"), customer=customer)
    assert release == at(f"2026-11-21 08:00 {offset}")
    assert rule.startswith(f"{state}: 8:00-20:00 daily (property ZIP {zip_code}, America/")


@pytest.mark.django_db
def test_connecticut_starts_at_9_and_stops_at_20(business):
    customer = customer_at("06103", "CT")
    release, rule = hold(at("2026-11-20 08:30 -05:00"), customer=customer)
    assert release == utc(2026, 11, 20, 14, 0)
    assert rule == "CT: 9:00-20:00 daily (property ZIP 06103, America/New_York)"
    assert hold(at("2026-11-20 09:00 -05:00"), customer=customer) is None
    assert hold(at("2026-11-20 20:00 -05:00"), customer=customer)[0] == utc(2026, 11, 21, 14, 0)


@pytest.mark.django_db
def test_texas_is_9_to_21_on_weekdays_and_saturday_and_12_to_21_on_sunday(business):
    customer = customer_at("78701", "TX")
    saturday_early, rule = hold(at("2026-11-21 08:59 -06:00"), customer=customer)
    assert saturday_early == utc(2026, 11, 21, 15, 0)
    assert rule == "TX: 9:00-21:00 Mon-Sat, 12:00-21:00 Sun (property ZIP 78701, America/Chicago)"
    assert hold(at("2026-11-21 20:59 -06:00"), customer=customer) is None
    assert hold(at("2026-11-21 21:00 -06:00"), customer=customer)[0] == utc(2026, 11, 22, 18, 0)
    assert hold(at("2026-11-22 09:30 -06:00"), customer=customer)[0] == utc(2026, 11, 22, 18, 0)
    assert hold(at("2026-11-22 12:00 -06:00"), customer=customer) is None
    assert hold(at("2026-11-23 09:00 -06:00"), customer=customer) is None  # Monday


@pytest.mark.django_db
def test_the_business_window_narrows_the_state_rule(business):
    rules = MessagingSettings.current()
    rules.quiet_hours_start, rules.quiet_hours_end = time(20), time(10)
    rules.save()
    release, rule = hold(at("2026-11-21 09:30 -06:00"), customer=customer_at("78701", "TX"))
    assert release == utc(2026, 11, 21, 16, 0)
    assert rule == (
        "TX: 9:00-21:00 Mon-Sat, 12:00-21:00 Sun; business hours 10:00-20:00 "
        "(property ZIP 78701, America/Chicago)"
    )


@pytest.mark.django_db
def test_with_the_business_window_off_the_state_rule_still_applies(business):
    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
    rules.save()
    assert hold(at("2026-11-21 08:30 -06:00"))[0] == utc(2026, 11, 21, 15, 0)  # Texas: 9:00
    assert hold(at("2026-11-21 09:00 -06:00")) is None


# --- Where the recipient is ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_property_zip_beats_the_area_code(business):
    customer = customer_at("33101", "FL", phone=TEXAS)
    release, rule = hold(at("2026-11-20 20:30 -05:00"), customer=customer)  # 19:30 in Austin
    assert release == utc(2026, 11, 21, 13, 0)
    assert rule == "FL: 8:00-20:00 daily (property ZIP 33101, America/New_York)"


@pytest.mark.django_db
def test_a_property_time_zone_beats_its_zip(business):
    customer = customer_at("78701", "TX", time_zone="America/Denver")
    location = recipient_location(number=TEXAS, customer=customer)
    assert (location.state, location.label) == ("TX", "property ZIP 78701, America/Denver")


def test_a_zip_gives_its_own_time_zone_within_a_state():
    place = quiet_hours._zip_place("79901")  # El Paso keeps Mountain time
    assert place == ("TX", "America/Denver")


@pytest.mark.django_db
def test_the_area_code_is_used_without_a_property(business):
    customer = make_customer(phones=[CONNECTICUT], properties=[])
    release, rule = hold(at("2026-11-20 08:30 -05:00"), number=CONNECTICUT, customer=customer)
    assert release == utc(2026, 11, 20, 14, 0)
    assert rule == "CT: 9:00-20:00 daily (area code 203, America/New_York)"
    assert hold(at("2026-11-20 08:30 -05:00"), number=CONNECTICUT)[1] == rule  # no customer at all


def test_an_area_code_spanning_two_zones_must_be_inside_both():
    location = recipient_location(number="+12085550123", customer=None)  # Idaho: Boise and Los Angeles
    assert location.label == "area code 208, America/Boise / America/Los_Angeles"
    release, _ = release_at(
        now=at("2026-11-20 08:30 -07:00"), location=location, quiet_hours=("21:00", "08:00")
    )
    assert release == at("2026-11-20 09:00 -07:00")  # 8:00 in Los Angeles


@pytest.mark.django_db
def test_an_address_that_cannot_be_placed_falls_back_to_the_business(business):
    nowhere = customer_at("00000", "ZZ", phone=TOLL_FREE)
    release, rule = hold(at("2026-11-21 08:30 -06:00"), number=TOLL_FREE, customer=nowhere)
    assert release == utc(2026, 11, 21, 15, 0)  # the business's phone is in Texas: 9:00 Chicago time
    assert rule.startswith("TX: ") and rule.endswith("(business, America/Chicago)")
    florida_unknown_zip = customer_at("00000", "FL", phone=TOLL_FREE)
    _, rule = hold(at("2026-11-21 07:30 -06:00"), number=TOLL_FREE, customer=florida_unknown_zip)
    assert rule == "FL: 8:00-20:00 daily (business, America/Chicago)"


@pytest.mark.django_db
def test_an_unknown_location_gets_the_window_that_holds_in_every_zone(business):
    customer = make_customer(phones=[TOLL_FREE], properties=[])
    monday_morning = at("2026-11-16 11:59 -05:00")
    release, rule = hold(monday_morning, number=TOLL_FREE, customer=customer)
    assert release == utc(2026, 11, 16, 17, 0)  # 12:00 Eastern is 9:00 Pacific
    assert rule == STRICTEST_TEXT
    assert hold(at("2026-11-16 12:00 -05:00"), number=TOLL_FREE) is None
    assert hold(at("2026-11-16 20:00 -05:00"), number=TOLL_FREE)[0] == utc(2026, 11, 17, 17, 0)
    assert hold(at("2026-11-22 14:59 -05:00"), number=TOLL_FREE)[0] == utc(2026, 11, 22, 20, 0)  # Sunday


# --- The 10-minute exemption --------------------------------------------------------------------------


NIGHT = at("2026-11-20 23:00 -06:00")


def _call(minutes_ago: int) -> Call:
    return Call.objects.create(
        call_sid=f"CA{minutes_ago}",
        from_number=TEXAS,
        to_number="+15125550100",
        started_at=NIGHT - timedelta(minutes=minutes_ago),
    )


def _text(minutes_ago: int, *, direction: str = "in", number: str = TEXAS) -> Message:
    return Message.objects.create(
        direction=direction,
        from_number=number if direction == "in" else "+15125550100",
        to_number="+15125550100" if direction == "in" else number,
        body="Are you open?",
        status="received" if direction == "in" else "sent",
        created_at=NIGHT - timedelta(minutes=minutes_ago),
    )


@pytest.mark.django_db
def test_the_answer_to_a_call_in_the_last_10_minutes_is_not_held(business):
    _call(minutes_ago=9)
    assert hold(NIGHT) is None


@pytest.mark.django_db
def test_the_answer_to_a_text_in_the_last_10_minutes_is_not_held(business):
    _text(minutes_ago=9)
    assert hold(NIGHT) is None


@pytest.mark.django_db
def test_a_call_or_text_11_minutes_ago_does_not_exempt(business):
    _call(minutes_ago=11)
    _text(minutes_ago=11)
    _text(minutes_ago=1, direction="out")  # our own text is not the customer reaching us
    _text(minutes_ago=1, number=CONNECTICUT)  # nor is someone else's
    assert hold(NIGHT) is not None


@pytest.mark.django_db
def test_the_decision_takes_at_most_three_queries(business, django_assert_num_queries):
    customer = customer_at("78701", "TX")
    MessagingSettings.current()  # cached, as on every webhook
    hold(at("2026-11-20 12:00 -06:00"), customer=customer)  # the ZIP is looked up once per process
    misses = quiet_hours._zip_place.cache_info().misses
    with django_assert_num_queries(1):  # inside the window: the property only
        assert hold(at("2026-11-20 12:00 -06:00"), customer=customer) is None
    with django_assert_num_queries(3):  # outside: the property, a recent call, a recent text
        assert hold(NIGHT, customer=customer) is not None
    assert quiet_hours._zip_place.cache_info().misses == misses


# --- Held texts keep their rule and go out at the next allowed minute -------------------------------------


@pytest.mark.django_db
def test_a_held_text_records_its_rule(business):
    customer = customer_at("78701", "TX")
    message = messaging.message_queue(
        to=TEXAS, body="Your tune-up is due", purpose="automated", customer=customer, now=NIGHT
    )
    assert message.status == "held" and message.not_before == utc(2026, 11, 21, 15, 0)
    saved = Message.objects.get(pk=message.pk)
    assert saved.hold_rule == "TX: 9:00-21:00 Mon-Sat, 12:00-21:00 Sun (property ZIP 78701, America/Chicago)"


@pytest.mark.django_db
def test_staff_see_in_the_inbox_why_a_text_waits(business, office, client_for):
    customer = customer_at("78701", "TX")
    message = messaging.message_queue(
        to=TEXAS, body="Reminder", purpose="automated", customer=customer, now=NIGHT
    )
    url = reverse("crm:inbox-conversation", args=[message.conversation_id])
    page = client_for(office).get(url).content.decode()
    assert "Held (quiet hours)</span> until Sat 9:00 AM" in page
    assert (
        "Quiet hours: TX: 9:00-21:00 Mon-Sat, 12:00-21:00 Sun (property ZIP 78701, America/Chicago)" in page
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "now", "release"),
    [
        # Spring forward, Sunday 2026-03-08: Saturday 22:00 CST; the window opens on daylight time.
        (TEXAS, utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 17, 0)),  # 12:00 CDT, not 18:00 UTC (CST)
        (ILLINOIS, utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 13, 0)),  # 8:00 CDT
        (TOLL_FREE, utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 19, 0)),  # 12:00 PDT = 15:00 EDT
        (ILLINOIS, utc(2026, 3, 8, 8, 15), utc(2026, 3, 8, 13, 0)),  # 3:15 CDT, just after the jump
        # Fall back, Sunday 2026-11-01: Saturday 22:00 CDT; the window opens on standard time.
        (TEXAS, utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 18, 0)),  # 12:00 CST, not 17:00 UTC (CDT)
        (ILLINOIS, utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 14, 0)),  # 8:00 CST
        (TOLL_FREE, utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 20, 0)),  # 12:00 PST = 15:00 EST
        (ILLINOIS, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 14, 0)),  # 1:30 CST, the hour seen twice
    ],
)
def test_the_release_is_the_next_allowed_minute_across_daylight_saving_changes(
    business, number, now, release
):
    assert hold(now, number=number)[0] == release


@pytest.mark.django_db
def test_a_held_text_is_released_at_its_minute_and_sent(business, django_capture_on_commit_callbacks):
    customer = customer_at("78701", "TX")
    message = messaging.message_queue(
        to=TEXAS, body="Reminder: tune-up tomorrow", purpose="automated", customer=customer, now=NIGHT
    )
    assert messaging.message_release_held(now=utc(2026, 11, 21, 14, 59)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert messaging.message_release_held(now=utc(2026, 11, 21, 15, 0)) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_sid.startswith("SMconsole")


@pytest.mark.django_db
def test_releasing_checks_the_window_again(business):
    """The customer moved to Los Angeles while the text waited: at 9:00 in Texas it is 7:00 there."""
    customer = customer_at("78701", "TX")
    message = messaging.message_queue(
        to=TEXAS, body="Reminder", purpose="automated", customer=customer, now=NIGHT
    )
    customer.properties.update(zip_code="90012", state="CA")
    assert messaging.message_release_held(now=utc(2026, 11, 21, 15, 0)) == 0
    message.refresh_from_db()
    assert message.status == "held" and message.not_before == utc(2026, 11, 21, 16, 0)
    assert message.hold_rule == "CA (default): 8:00-21:00 daily (property ZIP 90012, America/Los_Angeles)"
    assert messaging.message_release_held(now=utc(2026, 11, 21, 16, 0)) == 1


@pytest.mark.django_db
def test_releasing_still_checks_consent(business):
    message = messaging.message_queue(to=TEXAS, body="Reminder", purpose="automated", now=NIGHT)
    consent_record(number=TEXAS, state="opted_out", method="keyword")
    assert messaging.message_release_held(now=utc(2026, 11, 21, 15, 0)) == 1
    message.refresh_from_db()
    assert message.status == "suppressed"


# --- A property: the release is always the next allowed minute ------------------------------------------

LOCATIONS = [
    recipient_location(number=n, customer=None) for n in (TEXAS, CONNECTICUT, ILLINOIS, "+13055550123")
]
LOCATIONS.append(quiet_hours.UNKNOWN)
BUSINESS_WINDOWS = [("21:00", "08:00"), ("00:00", "00:00"), ("20:00", "10:00"), ("01:00", "06:00")]


@given(
    # hypothesis takes naive bounds and attaches the time zone itself
    now=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001
        max_value=datetime(2027, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    location=st.sampled_from(LOCATIONS),
    window=st.sampled_from(BUSINESS_WINDOWS),
)
def test_a_release_is_never_in_the_past_and_is_the_first_allowed_minute(now, location, window):
    hold = release_at(now=now, location=location, quiet_hours=window)
    if hold is None:
        return
    release, _ = hold
    assert now < release <= now + timedelta(days=7)
    assert release_at(now=release, location=location, quiet_hours=window) is None
    assert release_at(now=release - timedelta(minutes=1), location=location, quiet_hours=window) is not None

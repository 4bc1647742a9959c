"""The SMS segment counter in Chromium: live under the inbox composer and the owner's text templates,
and counting exactly as messaging.segments does on the server."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from messaging import services as messaging
from messaging.segments import segment_count
from tests.e2e.conftest import login
from tests.factories import PASSWORD, UserFactory, make_customer
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SAMPLES = [
    "",
    "On our way!",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "Price: €120 {incl. parts} [approx] ~2h ^_^ a|b \\ ok",
    "a" * 152 + "€" + "a" * 10,
    "Café à Zürich? ñ, è, Ø, Δ, ¿, £5",
    "See you at 3 👍",
    "ê" * 70,
    "ê" * 71,
    "ê" * 134,
    "ê" * 66 + "😀" + "ê" * 10,
    "We\u2019ll be there\nLine two",
]
# A textarea turns \r\n into \n, so a carriage return is only compared on the script's own count.
RAW_SAMPLES = [*SAMPLES, "Line one\r\nLine two\f", "\r" * 161]


def expected_line(text: str) -> str:
    """What the page should show for `text`, built from the server's count."""
    count = segment_count(text)
    label = "GSM-7" if count.encoding == "GSM-7" else "UCS-2: emoji or accents"
    plural = "" if count.segments == 1 else "s"
    return f"{count.units} characters · {count.segments} segment{plural} ({label}) · {count.remaining} left"


@pytest.fixture
def inbox_page(page, live_server, e2e_business):
    office = UserFactory(username="maria", role=Role.OFFICE)
    make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["512-555-0199"])
    messaging.message_receive(
        from_number="+15125550199",
        to_number="+15555550100",
        body="Can you come today?",
        provider_sid="SMseg1",
    )
    login(page, live_server, office.username, PASSWORD)
    page.goto(live_server.url + "/leads/inbox/")
    page.click("text=Ana Ruiz")
    expect(page.locator("[data-testid=thread]")).to_contain_text("Can you come today?")
    return page


def test_the_composer_shows_the_count_as_you_type(inbox_page, console):
    page, box = inbox_page, inbox_page.locator("#reply-body")
    counter = page.locator("[data-sms-count-for=reply-body]")
    expect(counter).to_have_text("0 characters · 0 segments (GSM-7) · 160 left")
    box.press_sequentially("On our way")
    expect(counter).to_have_text("10 characters · 1 segment (GSM-7) · 150 left")
    box.press_sequentially(" 👍")
    expect(counter).to_have_text("13 characters · 1 segment (UCS-2: emoji or accents) · 57 left")
    box.fill("a" * 161)
    expect(counter).to_have_text("161 characters · 2 segments (GSM-7) · 145 left")
    box.fill("We can be there by 2pm.")
    page.click("form.reply button[type=submit]")
    expect(page.locator(".bubble.out")).to_contain_text("We can be there by 2pm")
    expect(counter).to_have_text("0 characters · 0 segments (GSM-7) · 160 left")  # the box was emptied
    assert console.errors == [] and console.csp_violations == []


def test_the_page_and_the_server_count_the_same(inbox_page):
    page, box = inbox_page, inbox_page.locator("#reply-body")
    counter = page.locator("[data-sms-count-for=reply-body]")
    for text in SAMPLES:
        box.fill(text)
        expect(counter).to_have_text(expected_line(text))
    for text in RAW_SAMPLES:
        count = segment_count(text)
        in_page = page.evaluate("text => window.smsSegments.count(text)", text)
        assert in_page == {
            "encoding": count.encoding,
            "units": count.units,
            "segments": count.segments,
            "remaining": count.remaining,
        }, text


def test_every_text_template_of_the_owner_has_a_count(page, live_server, e2e_business):
    owner = UserFactory(username="olivia", role=Role.OWNER)
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + reverse("crm:messaging-settings"))
    counters = page.locator(".sms-count")
    expect(counters).to_have_count(7)  # missed call, instant reply, HELP, and the four appointment texts
    box = page.locator("#id_missed_call_template")
    box.fill("Sorry we missed you! Call us back: {business_phone}")
    line = expected_line("Sorry we missed you! Call us back: {business_phone}")
    expect(counters.first).to_have_text(f"{line} · before merge fields")
    box.fill("Sorry we missed you 😀")
    expect(counters.first).to_contain_text("(UCS-2: emoji or accents)")

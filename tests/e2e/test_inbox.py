"""The inbox in Chromium: reply to a text and see it appear in the thread without a reload."""

import pytest
from playwright.sync_api import expect

from messaging import services as messaging
from messaging.models import Message
from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory, make_customer
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_office_replies_to_a_text_from_the_inbox(page, live_server, e2e_business):
    office = UserFactory(username="maria", role=Role.OFFICE)
    make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["512-555-0199"])
    inbound, _ = messaging.message_receive(
        from_number="+15125550199",
        to_number="+15555550100",
        body="Is anyone free today? The water heater is leaking.",
        provider_sid="SMe2e1",
    )
    login(page, live_server, office.username, PASSWORD)
    page.goto(live_server.url + "/leads/inbox/")
    page.click("text=Ana Ruiz")
    expect(page.locator("[data-testid=thread]")).to_contain_text("water heater is leaking")
    page.fill("#reply-body", "We can be there by 2pm. Does that work?")
    page.click("form.reply button[type=submit]")
    expect(page.locator(".bubble.out")).to_contain_text("We can be there by 2pm")
    expect(page.locator("#reply-body")).to_have_value("")
    reply = Message.objects.get(direction="out")
    assert reply.to_number == "+15125550199" and reply.conversation_id == inbound.conversation_id
    screenshot_both(page, "inbox-thread")

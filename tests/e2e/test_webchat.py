"""A plumber's own website (a second local server, another origin) loads our chat script; a visitor opens
the chat in Chromium and writes, the office answers from the inbox, and the answer appears in the visitor's
panel within seconds."""

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from crm.models import Lead, Source, WebForm
from crm.webchat import services
from messaging.models import Message
from tests.e2e.conftest import login, screenshot
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The host site's own CSS is not ours: the chat must look right despite rules like these.
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lone Star Plumbing &amp; Air, Austin TX</title>
<style>
  body { margin: 0; font-family: Georgia, serif; background: #f7f3ec; color: #222; }
  header { background: #7c2d12; color: #fff; padding: 1rem 2rem; font-size: 1.1rem; }
  main { max-width: 900px; margin: 0 auto; padding: 2.5rem 2rem; }
  h1 { font-size: 2.4rem; margin: 0 0 1rem; }
  label { display: inline; color: purple; }
  input, select, textarea { border: 3px dotted red; width: auto; }
  button { background: lime; }
</style>
</head>
<body>
<header><strong>Lone Star Plumbing &amp; Air</strong> &middot; Austin, TX &middot; (512) 555-0100</header>
<main>
  <h1>AC not cooling? Same-day repair.</h1>
  <p>Family owned since 1987. Licensed plumbers and HVAC technicians across Austin and Round Rock.</p>
</main>
__SNIPPET__
</body>
</html>
"""


@pytest.fixture
def web_form(db, host_site, live_server, e2e_business):
    source = Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    form = WebForm.objects.create(name="Homepage form", source=source, allowed_origins=[host_site.origin])
    host_site.pages["/"] = HOST_PAGE.replace(
        "__SNIPPET__", f'<script src="{live_server.url}/chat/{form.public_id}/chat.js" async></script>'
    )
    return form


@pytest.fixture
def office_user(db, e2e_business):
    return UserFactory(username="e2e_office", first_name="Olivia", last_name="Office", role=Role.OFFICE)


def _open_chat(page: Page, host_site):
    page.goto(host_site.origin + "/")
    page.get_by_role("button", name="Chat with us").click()
    panel = page.get_by_role("dialog", name="Chat with Lone Star Plumbing")
    expect(panel).to_be_visible()
    return panel


def _start(panel, *, phone="(512) 555-0199"):
    panel.get_by_label("Your name").fill("Rosa Delgado")
    panel.get_by_label("Mobile phone").fill(phone)
    panel.get_by_label("Your message").fill("Is anyone free to look at my AC today?")
    panel.get_by_role("button", name="Start chat").click()


def test_a_visitor_chats_from_the_plumbers_site_and_sees_the_offices_reply(
    page, console, browser, live_server, host_site, web_form, office_user
):
    panel = _open_chat(page, host_site)
    # Our stylesheet, not the host's `label { display: inline }` and dotted red borders, shapes the panel.
    assert panel.get_by_label("Your name").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    assert panel.locator("label").first.evaluate("e => getComputedStyle(e).display") == "block"
    screenshot(page, "webchat-start")

    _start(panel)
    log = panel.locator(".wc-log")
    expect(log.locator(".wc-mine .wc-bubble")).to_have_text(["Is anyone free to look at my AC today?"])
    lead = Lead.objects.get(name="Rosa Delgado")
    assert lead.web_form == web_form and lead.phone == "+15125550199"
    conversation = Message.objects.get(channel="chat").conversation

    panel.get_by_label("Write a message").fill("It's a Trane, upstairs unit.")
    panel.get_by_role("button", name="Send").click()
    expect(log.locator(".wc-mine")).to_have_count(2)

    # The office answers from the inbox, in a browser of its own.
    office_context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        office = office_context.new_page()
        login(office, live_server, office_user.username, PASSWORD)
        office.goto(f"{live_server.url}/leads/inbox/{conversation.pk}/")
        expect(office.locator("#reply-channel")).to_have_value("chat")
        office.get_by_label("Reply").fill("Yes! Marco can be there at 3pm.")
        office.get_by_role("button", name="Send").click()
        expect(office.get_by_test_id("thread")).to_contain_text("Yes! Marco can be there at 3pm.")
        screenshot(office, "webchat-inbox")
    finally:
        office_context.close()

    # (the office's automatic first text to a new lead shows in the chat too)
    expect(log.locator(".wc-theirs .wc-bubble").last).to_have_text(
        "Yes! Marco can be there at 3pm.", timeout=8000
    )
    screenshot(page, "webchat-reply")
    reply = Message.objects.get(direction="out", channel="chat")
    assert (reply.channel, reply.status, reply.created_by) == ("chat", "sent", office_user)
    # The visitor was there: the reply was not texted as well.
    assert not Message.objects.filter(channel="sms", template=services.SMS_COPY_TEMPLATE).exists()
    assert not console.errors, console.errors

    # Another page of the site: the chat goes on (the token is in localStorage).
    page.reload()
    page.get_by_role("button", name="Chat with us").click()
    expect(panel.locator(".wc-log .wc-line .wc-bubble").last).to_have_text("Yes! Marco can be there at 3pm.")
    expect(panel.locator(".wc-log .wc-mine")).to_have_count(2)


def test_on_a_phone_the_chat_fills_the_screen_and_shows_errors_next_to_the_field(
    phone_page, host_site, web_form
):
    page = phone_page
    page.goto(host_site.origin + "/")
    expect(page.get_by_role("button", name="Chat with us")).to_be_visible()
    screenshot(page, "webchat-closed")
    panel = _open_chat(page, host_site)
    _start(panel, phone="555-12")
    expect(panel.locator(".wc-f-phone .wc-error")).to_contain_text("valid phone")
    expect(panel.get_by_label("Mobile phone")).to_be_focused()
    assert not Lead.objects.exists()
    box = panel.bounding_box()
    assert box and box["width"] >= 389 and page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "webchat-phone-error")

    panel.get_by_label("Mobile phone").fill("(512) 555-0199")
    panel.get_by_role("button", name="Start chat").click()
    expect(panel.locator(".wc-mine")).to_have_count(1)
    conversation = Message.objects.get(channel="chat").conversation
    cache.clear()  # the visitor is away as far as the office knows...
    services.chat_reply(conversation=conversation, body="Hi Rosa, we can come at 3pm.")
    # ...and then the panel's next poll shows the reply (it was also texted).
    expect(panel.locator(".wc-theirs .wc-bubble").last).to_have_text(
        "Hi Rosa, we can come at 3pm.", timeout=8000
    )
    assert Message.objects.filter(channel="sms", template=services.SMS_COPY_TEMPLATE).exists()
    screenshot(page, "webchat-phone-reply")


def test_a_site_that_is_not_allowed_cannot_chat(page, host_site, web_form):
    page.goto(host_site.origin.replace("127.0.0.1", "localhost") + "/")
    page.get_by_role("button", name="Chat with us").click()
    _start(page.get_by_role("dialog"))
    expect(page.locator(".wc-status")).to_contain_text("could not be sent")
    assert not Lead.objects.exists()

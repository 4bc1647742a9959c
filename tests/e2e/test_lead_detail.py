"""A lead's page in Chromium: office staff book a new lead on the first call, without qualifying it first."""

import pytest
from playwright.sync_api import expect

from crm.models import Lead, Source
from crm.services import LeadIn, lead_capture
from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_lead_is_booked_from_its_page_and_the_timeline_says_it_was_qualified_on_the_way(
    page, live_server, e2e_business
):
    office = UserFactory(username="maria", role=Role.OFFICE)
    # A lead nobody answered yet: no instant reply (in the day it would go out and mark the lead contacted).
    source = Source.objects.create(
        name="Website", slug="website", kind=Source.Kind.WEB_FORM, instant_reply_enabled=False
    )
    contact = LeadIn(name="Ana Ruiz", phone="512-555-0199", service="AC repair")
    lead = lead_capture(source=source, contact=contact).lead
    login(page, live_server, office.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    panel = page.locator("details.action-panel", has_text="Book the job")
    expect(panel).to_be_visible()
    expect(panel.locator("summary")).to_contain_text("qualifies the lead on the way")
    screenshot_both(page, "lead-new-book")
    panel.locator("textarea[name=notes]").fill("Gate code 4412")
    panel.locator("button[type=submit]", has_text="Book").click()

    expect(page.locator(".flash")).to_contain_text("Booked")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Lead qualified while booking (new → qualified)")
    expect(timeline).to_contain_text("Lead booked (qualified → booked)")
    assert Lead.objects.get(pk=lead.pk).state == "booked"

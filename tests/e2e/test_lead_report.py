"""The lead-source report on a phone: its wide tables scroll sideways with the first column fixed, and a
hint says there is more; on a desktop they fit and say nothing."""

import pytest
from playwright.sync_api import expect

from crm.models import Source
from crm.services import LeadIn, lead_capture
from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(e2e_business):
    source = Source.objects.create(name="Google Local Services", slug="lsa", kind=Source.Kind.WEBHOOK)
    for name, phone in (("Ana Ruiz", "512-555-0199"), ("Walt Jones", "512-555-0142")):
        lead_capture(source=source, contact=LeadIn(name=name, phone=phone, service="AC repair"))
    return UserFactory(username="olivia", role=Role.OWNER)


def test_on_a_phone_the_report_scrolls_sideways_with_the_source_column_fixed(phone_page, live_server, owner):
    login(phone_page, live_server, owner.username, PASSWORD)
    phone_page.goto(live_server.url + "/leads/report/")
    card = phone_page.locator(".report-table").first
    expect(card.locator(".scroll-hint")).to_have_text(
        "Scroll sideways for all 10 columns \N{RIGHTWARDS ARROW}"
    )
    wrap = card.locator(".table-wrap")
    source_cell = wrap.locator("tbody td").first
    leads_header = wrap.locator("thead th").nth(1)
    before = source_cell.bounding_box()["x"], leads_header.bounding_box()["x"]
    wrap.evaluate("el => el.scrollLeft = el.scrollWidth")
    after = source_cell.bounding_box()["x"], leads_header.bounding_box()["x"]
    assert after[0] == before[0], "the source column stays in place"
    assert after[1] < before[1], "the other columns scroll"
    expect(wrap.locator("thead th").last).to_be_in_viewport()
    expect(wrap).to_have_class("table-wrap is-wide at-end")
    screenshot_both(phone_page, "leads-report")


def test_on_a_desktop_the_report_fits_and_has_no_hint(page, live_server, owner):
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + "/leads/report/")
    expect(page.locator(".report-table .table-wrap").first).to_be_visible()
    expect(page.locator(".scroll-hint:visible")).to_have_count(0)

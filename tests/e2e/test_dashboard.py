"""The owner's dashboard in Chromium: every chart drawn by Chart.js (served from node_modules through
staticfiles) on a desktop and on a phone, no console or CSP errors, nothing wider than the phone."""

import pytest
from playwright.sync_api import expect

from crm.models import Source
from crm.services import LeadIn, lead_capture
from tests.e2e.conftest import Console, login, screenshot, wait_until
from tests.factories import PASSWORD, UserFactory
from tests.finance.test_ledger import deliver
from tests.fsm.estimate_helpers import austin_tax, issued_invoice
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CHARTS = 8


@pytest.fixture
def owner(e2e_business):
    office = UserFactory(username="dana", role=Role.OFFICE)
    source = Source.objects.create(name="Google Local Services", slug="lsa", kind=Source.Kind.WEBHOOK)
    for name, phone in (("Ana Ruiz", "512-555-0199"), ("Walt Jones", "512-555-0142")):
        lead = lead_capture(source=source, contact=LeadIn(name=name, phone=phone, service="AC repair")).lead
    austin_tax()
    issued_invoice(customer=lead.customer, actor=office, amount="350.00")
    deliver()
    return UserFactory(username="olivia", role=Role.OWNER)


def _charts_drawn(page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll("canvas[data-chart]")]
              .filter((c) => c.chart && c.width > 0 && c.height > 0).length"""
    )


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_dashboard_draws_every_chart_with_no_console_or_csp_error(request, device, live_server, owner):
    page = request.getfixturevalue(device)
    console = Console(page, app_url=live_server.url)
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + "/dashboard/?range=90d")
    expect(page.locator("canvas[data-chart]")).to_have_count(CHARTS)
    wait_until(page, f"() => document.querySelectorAll('canvas[data-chart]').length === {CHARTS}")
    assert _charts_drawn(page) == CHARTS
    expect(page.get_by_test_id("revenue").locator(".figure-value")).to_have_text("$350.00")
    expect(page.get_by_test_id("leads-total").locator(".figure-value")).to_have_text("2")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "nothing sticks out sideways"
    assert not console.errors and not console.csp_violations
    screenshot(page, "owner-dashboard")


def test_the_custom_dates_show_only_for_a_custom_range(page, live_server, owner):
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + "/dashboard/")
    expect(page.locator("#id_start")).to_be_hidden()
    page.select_option("#id_range", "custom")
    page.fill("#id_start", "2026-03-10")
    page.fill("#id_end", "2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".f-end .errorlist")).to_have_text("The end is before the start.")
    expect(page.locator("#id_start")).to_be_visible()

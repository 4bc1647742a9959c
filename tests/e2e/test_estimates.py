"""Estimates in Chromium: the customer opens the link, picks Better, ticks an add-on, signs and accepts,
and the job shows the chosen lines; a technician builds a three-option estimate on the phone, the
customer signs on site, then the technician invoices and collects cash."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from fsm.estimates import services as estimates
from fsm.estimates.models import Estimate
from fsm.invoices.models import Invoice
from fsm.models import Job
from tests.e2e.conftest import Console, login, screenshot, screenshot_both
from tests.e2e.test_tech_day import sign
from tests.factories import PASSWORD, UserFactory, make_customer
from tests.fsm.estimate_helpers import austin_tax, good_better_best
from tests.fsm.factories import JobTypeFactory, make_job, make_technician, schedule
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_customer_picks_better_ticks_an_add_on_signs_and_the_job_shows_the_lines(
    page, console: Console, live_server, e2e_business
):
    office = UserFactory(username="e2e_office", role=Role.OFFICE)
    austin_tax()
    customer = make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])
    estimate = good_better_best(customer=customer, actor=office)
    estimates.estimate_send(estimate=estimate, actor=office)

    page.goto(f"{live_server.url}/e/{estimate.public_token}/")
    expect(page.get_by_role("heading", name="Water heater replacement")).to_be_visible()
    better = page.locator(".doc-option", has_text="Better")
    better.get_by_text("Choose Better").click()
    expect(page.locator("#quote")).to_contain_text("$3,809.63")
    better.get_by_label("Add: Expansion tank").check()
    expect(page.locator("#quote")).to_contain_text("$4,014.22")  # the server's arithmetic, with the add-on
    page.get_by_label("Your full name").fill("Ana Ruiz")
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_text("Sign in the box.")).to_be_visible()  # refused without a signature, nothing lost
    expect(page.get_by_label("Your full name")).to_have_value("Ana Ruiz")
    sign(page)
    screenshot(page, "estimate public before accept")
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_text("Thank you! We will call you to schedule the work.")).to_be_visible()
    screenshot_both(page, "estimate public accepted")

    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.ACCEPTED and estimate.accepted_total == Decimal("4014.22")
    job = Job.objects.get(pk=estimate.job_id)
    login(page, live_server, "e2e_office", PASSWORD)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    money = page.locator("#money")
    expect(money).to_contain_text("Tankless gas heater, installed")
    expect(money).to_contain_text("Expansion tank")
    expect(money).to_contain_text("$4,014.22")
    assert [e for e in console.errors if "status of 400" not in e] == []  # the refused signing: a 400 page
    assert not console.csp_violations


def test_a_technician_builds_three_options_the_customer_signs_and_cash_is_collected(
    phone_page, live_server, e2e_business
):
    page = phone_page
    office = UserFactory(username="e2e_office", role=Role.OFFICE)
    jake = make_technician(username="e2e_jake", first_name="Jake", last_name="Morrison")
    austin_tax()
    job = make_job(actor=office, job_type=JobTypeFactory(name="Water heater"), description="No hot water")
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.localtime(timezone=e2e_business.tzinfo).replace(second=0, microsecond=0)
    schedule(job, start=start, end=start + timedelta(hours=2), technicians=[jake], actor=office)

    login(page, live_server, "e2e_jake", PASSWORD)
    page.goto(f"{live_server.url}/my-day/jobs/{job.pk}/")
    page.get_by_role("link", name="New estimate").click()
    page.get_by_label("What is it for?").fill("Water heater replacement")
    page.get_by_label("Good / Better / Best").check()
    page.get_by_role("button", name="Create and add lines").click()
    for name, what, price in (
        ("Good", "40 gal gas heater, installed", "1650"),
        ("Better", "50 gal gas heater, installed", "1895"),
        ("Best", "Tankless gas heater, installed", "3450"),
    ):
        option = page.locator(".est-option", has=page.locator(f"input[name=name][value='{name}']"))
        option.get_by_role("combobox", name="Add a line").fill(what)
        option.locator("input[name=unit_price]").fill(price)
        option.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator(".est-option", has_text=what)).to_be_visible()
    screenshot_both(page, "estimate editor on the phone")
    page.get_by_role("link", name="Show the customer").click()
    page.locator(".doc-option", has_text="Best").get_by_text("Choose Best").click()
    expect(page.locator("#quote")).to_contain_text("$3,734.63")
    page.get_by_label("Your full name").fill("Megan Miller")
    sign(page)
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_text("Accepted and signed.")).to_be_visible()

    estimate = Estimate.objects.get()
    assert estimate.state == Estimate.State.ACCEPTED and estimate.accepted_in_person
    page.get_by_role("link", name=f"{job.number}").first.click()
    page.get_by_role("link", name="Invoice and collect").click()
    expect(page.get_by_text("Tankless gas heater, installed")).to_be_visible()
    page.get_by_role("button", name="Invoice $3,734.63").click()
    expect(page.get_by_text("Collect")).to_be_visible()
    page.get_by_text("Cash", exact=True).click()
    screenshot_both(page, "collect payment on the phone")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("heading", name="Paid in full")).to_be_visible()
    invoice = Invoice.objects.get(job=job)
    assert invoice.state == Invoice.State.PAID and invoice.payments.get().method == "cash"


def test_the_office_adds_a_pricebook_item_by_keyboard(page, console: Console, live_server, e2e_business):
    from tests.fsm.estimate_helpers import water_heater_item

    office = UserFactory(username="e2e_office", role=Role.OFFICE)
    austin_tax()
    water_heater_item()
    customer = make_customer(actor=office, first_name="Ana", last_name="Ruiz")
    estimate = estimates.estimate_create(
        customer=customer, property=customer.properties.first(), actor=office, title="Water heater"
    )
    login(page, live_server, "e2e_office", PASSWORD)
    page.goto(f"{live_server.url}/estimates/{estimate.pk}/")
    box = page.get_by_role("combobox", name="Add a line")
    box.press_sequentially("wh-50", delay=40)
    expect(page.get_by_role("option").first).to_contain_text("50 gal gas water heater")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.locator("input[name=unit_price]")).to_have_value("1895.00")
    page.get_by_role("button", name="Add", exact=True).click()
    line = estimate.options.get().lines.get()
    assert (line.code, line.name, line.unit_price) == (
        "WH-50G",
        "50 gal gas water heater, installed",
        Decimal("1895.00"),
    )
    expect(page.locator(".est-option")).to_contain_text("$2,051.34")
    assert not console.errors and not console.csp_violations

"""Reactivation in Chromium: the segment builder counts live as the filters change (htmx), and a campaign
to the saved segment is drafted, shows its plan, and launches."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.segments import services as segments
from crm.segments.models import OutreachRecipient
from customers import services as customer_services
from customers.services import CustomerIn, PhoneIn, PropertyIn
from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory, unique_phone
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(e2e_business):
    """Five past customers: three last seen 14 months ago in 78704, two last month in 78745."""
    made = customer_services.customers_create_bulk(
        customers=[
            CustomerIn(
                first_name=f"Pat{i}",
                last_name="Lee",
                phones=[PhoneIn(number=unique_phone())],
                properties=[PropertyIn(street=f"{i} Oak St", city="Austin", state="TX", zip_code=zip_code)],
            )
            for i, zip_code in enumerate(["78704"] * 3 + ["78745"] * 2)
        ],
        actor=None,
    )
    for i, row in enumerate(made):
        customer_services.consent_record(
            number=row.customer.phones.first().number.as_e164, state="opted_in", method="web form"
        )
        segments.history_job_completed(
            customer_id=row.customer.pk,
            at=timezone.now() - timedelta(days=425 if i < 3 else 30),
            job_type="AC tune-up",
        )
    return UserFactory(username="olivia", role=Role.OWNER)


def test_the_segment_counts_live_and_a_campaign_to_it_launches(page, live_server, owner):
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + "/leads/segments/new/")
    count = page.get_by_test_id("segment-count")
    expect(count).to_have_text("5")
    page.get_by_label("Last job at least ... months ago").fill("12")
    expect(count).to_have_text("3")
    page.get_by_label("ZIP codes").fill("78745")
    expect(page.get_by_test_id("segment-result")).to_contain_text("Nobody matches these filters")
    page.get_by_label("ZIP codes").fill("78704, 78745")
    expect(count).to_have_text("3")
    screenshot_both(page, "segment-builder")
    page.locator("#id_name").fill("Lapsed a year")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", name="Lapsed a year")).to_be_visible()
    page.goto(live_server.url + "/leads/segments/")  # the saved list fills its counts in after loading
    expect(page.get_by_test_id("segment-row").get_by_test_id("segment-count")).to_have_text("3")
    screenshot_both(page, "segment-list")
    page.get_by_role("link", name="Lapsed a year").click()

    page.get_by_role("link", name="Start a campaign").click()
    page.locator("#id_name").fill("Spring tune-up")
    text = "Hi {first_name}, time for your AC tune-up. Reply YES to book."
    page.get_by_label("Text", exact=True).fill(text)
    expect(page.locator("[data-sms-count-for], .sms-count").first).to_contain_text("1 segment")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_test_id("plan-recipients")).to_have_text("3")
    expect(page.get_by_test_id("outreach-body")).to_contain_text("Hi Pat")
    screenshot_both(page, "reactivation-plan")
    page.get_by_test_id("launch").click()
    expect(page.get_by_test_id("outreach-state")).to_have_text("Scheduled")
    expect(page.get_by_test_id("outreach-results")).to_contain_text("3 waiting")
    assert OutreachRecipient.objects.filter(state=OutreachRecipient.State.PENDING).count() == 3

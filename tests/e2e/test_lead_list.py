"""The leads list in Chromium: every filter is labelled, and a filter is never marked "(optional)"."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FILTER_LABELS = [
    "Search",
    "State",
    "Source",
    "Campaign",
    "Assigned to",
    "Service",
    "Age",
    "Arrived from",
    "Arrived until",
    "Ever booked",
]


def test_every_lead_filter_has_its_own_label_and_none_says_optional(page, live_server, e2e_business):
    office = UserFactory(username="maria", role=Role.OFFICE)
    login(page, live_server, office.username, PASSWORD)
    page.goto(live_server.url + "/leads/list/")
    filters = page.locator("form.filters")
    controls = filters.locator("input:not([type=hidden]), select")
    labels = [
        filters.locator(f'label[for="{control.get_attribute("id")}"]').inner_text().strip()
        for control in controls.all()
    ]
    assert labels == FILTER_LABELS
    expect(filters).not_to_contain_text("optional")
    expect(filters).not_to_contain_text("invalid name")
    screenshot_both(page, "leads-list")

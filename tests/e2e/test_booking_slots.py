"""'Find a time' on a lead's Book form in Chromium: the slot list arrives styled, because the page already
has its stylesheet (one that came with the fragment showed it unstyled until it loaded)."""

import pytest
from playwright.sync_api import expect

from crm.models import Source
from crm.services import LeadIn, lead_capture
from tests.e2e.conftest import login, screenshot_both, wait_until
from tests.factories import PASSWORD, UserFactory
from tests.fsm.factories import JobTypeFactory, SkillFactory, make_technician
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EVERY_DAY = {day: ["00:00", "23:30"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# At the moment htmx settles the swapped slots: the slot list's display and whether a stylesheet came too.
RECORD_ON_SETTLE = """
document.body.addEventListener("htmx:afterSettle", () => {
  const list = document.querySelector("#booking-slot .slot-list");
  if (list) window.slotsAtSettle = {display: getComputedStyle(list).display,
                                    links: document.querySelectorAll("#booking-slot link").length};
});
"""


def test_the_slot_list_is_styled_the_moment_it_arrives(page, live_server, e2e_business):
    office = UserFactory(username="maria", role=Role.OFFICE)
    skill = SkillFactory(name="HVAC repair")
    make_technician(skills=[skill], working_hours=EVERY_DAY, first_name="Jake", last_name="Morrison")
    JobTypeFactory(name="AC repair", default_duration_minutes=90, required_skill=skill)
    source = Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    contact = LeadIn(
        name="Ana Ruiz", phone="512-555-0199", service="AC repair",
        street="1944 Stanton St", city="Round Rock", state="TX", zip_code="78665",
    )  # fmt: skip
    lead = lead_capture(source=source, contact=contact).lead
    login(page, live_server, office.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator('head link[href$="css/jobs.css"]')).to_have_count(1)
    page.evaluate(RECORD_ON_SETTLE)

    page.get_by_role("button", name="Find a time").click()
    expect(page.locator("#booking-slot .slot").first).to_contain_text("Jake Morrison")
    wait_until(page, "window.slotsAtSettle !== undefined")  # settling follows the swap by a moment
    assert page.evaluate("window.slotsAtSettle") == {"display": "grid", "links": 0}
    screenshot_both(page, "lead-find-a-time")

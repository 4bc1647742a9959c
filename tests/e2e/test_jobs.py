"""The office's job pages in Chromium: book a job from a customer's page and schedule it with "Suggest
times"; follow a booked lead's link to its job, waiting while the handoff is still on its way."""

import re

import pytest
from playwright.sync_api import expect

from crm import services as crm
from fsm import services
from fsm.models import Job
from tests.e2e.conftest import login, screenshot, screenshot_both
from tests.factories import PASSWORD, UserFactory, make_customer
from tests.fsm.factories import JobTypeFactory, SkillFactory, make_qualified_lead, make_technician
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EVERY_DAY = {day: ["00:00", "23:30"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def office_user(e2e_business):
    return UserFactory(username="e2e_office", first_name="Olivia", last_name="Office", role=Role.OFFICE)


@pytest.fixture
def ac_repair(db):
    skill = SkillFactory(name="HVAC repair")
    make_technician(skills=[skill], working_hours=EVERY_DAY, first_name="Jake", last_name="Morrison")
    return JobTypeFactory(name="AC repair", default_duration_minutes=90, required_skill=skill)


def test_office_books_a_job_from_a_customer_and_schedules_it_with_suggested_times(
    page, live_server, office_user, ac_repair, console
):
    customer = make_customer(first_name="Rosa", last_name="Delgado")
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.locator(".customer-jobs")).to_contain_text("No jobs yet")  # the htmx fragment arrived

    page.get_by_role("link", name="New job").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New job for Rosa Delgado")
    page.get_by_label("Job type").select_option(label="AC repair")
    page.get_by_label("Description").fill("Upstairs unit blowing warm air")
    expect(page.get_by_role("button", name="Suggest times")).to_be_hidden()
    page.get_by_label("Schedule a visit now").check()
    page.get_by_role("button", name="Suggest times").click()

    slots = page.locator(".slot")
    expect(slots.first).to_contain_text("Jake Morrison")
    assert slots.count() == 5
    chosen = slots.first.locator(".slot-when").inner_text()
    slots.first.click()
    expect(page.locator(".filled-note")).to_be_visible()
    expect(page.get_by_label("Jake Morrison")).to_be_checked()
    expect(page.get_by_label("Length (minutes)")).to_have_value("90")
    assert console.csp_violations == [] and console.errors == []

    page.get_by_role("button", name="Book the job").click()
    job = Job.objects.get(customer=customer)
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(job.number)
    expect(page.locator(".job-badges")).to_contain_text("Scheduled")
    visits = page.locator("#visits table")
    expect(visits).to_contain_text("Jake Morrison")
    day = chosen.split(" ", 3)[:3]  # e.g. "Mon Nov 23"
    expect(visits).to_contain_text(" ".join(day))
    expect(page.locator(".flash")).to_contain_text("Visit booked")
    assert job.state == "scheduled" and job.visits.count() == 1
    screenshot_both(page, "job-page")

    page.get_by_role("link", name="Rosa Delgado").first.click()
    expect(page.locator(".customer-jobs")).to_contain_text(job.number)
    screenshot(page, "customer-with-jobs")


@pytest.fixture
def booked_lead(office_user):
    lead = make_qualified_lead(actor=office_user)
    return crm.lead_book(lead=lead, actor=office_user)  # commits: lead.booked is delivered (eager Celery)


def test_a_booked_leads_page_links_to_its_job(page, live_server, office_user, booked_lead):
    job = Job.objects.get(origin_lead_id=booked_lead.pk)
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/{booked_lead.pk}/")
    page.get_by_role("link", name="Open the job").click()
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(job.number)
    expect(page.get_by_role("link", name=f"Lead #{booked_lead.pk}")).to_be_visible()


def test_the_link_waits_for_the_job_while_the_handoff_is_on_its_way(
    page, live_server, office_user, booked_lead
):
    Job.objects.filter(origin_lead_id=booked_lead.pk).delete()  # as if lead.booked were not delivered yet
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/{booked_lead.pk}/")
    page.get_by_role("link", name="Open the job").click()
    expect(page.get_by_text("The job is being created")).to_be_visible()

    job = services.job_from_booking(lead_id=booked_lead.pk, customer_id=booked_lead.customer_id)
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(job.number)

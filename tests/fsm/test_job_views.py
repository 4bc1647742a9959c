"""The office's job pages: the list, the job page and its actions, booking from a customer, suggestions,
equipment, the customer page's fragment and the lead handoff link."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import services as crm
from customers.models import Property
from events.models import Event
from fsm import services
from fsm.models import Equipment, Job, Visit
from tests.factories import make_customer
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import (
    at,
    make_job,
    make_qualified_lead,
    make_technician,
    schedule,
    services_property,
)
from users.context_processors import navigation

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_client(office, client_for, business):
    return client_for(office)


def visit_post(tech, *, day=MONDAY, start="09:00", duration="90", **extra) -> dict:
    data = {"visit-date": day.isoformat(), "visit-start_time": start, "visit-duration": duration}
    data["visit-technicians"] = [tech.pk] if tech else []
    return data | extra


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- The list -------------------------------------------------------------------------------------------


def test_the_list_filters_by_state_priority_and_number_or_customer(office_client, office, ac_repair, tech):
    urgent = make_job(actor=office, job_type=ac_repair, priority="emergency")
    waiting = make_job(actor=office, job_type=ac_repair, customer=make_customer(last_name="Zamora"))
    schedule(urgent, start=at(MONDAY, 9), technicians=[tech], actor=office)

    def numbers(query: str) -> set[str]:
        page = office_client.get(f"{reverse('job-list')}?{query}").context["page"]
        return {job.number for job in page.object_list}

    assert numbers("") == {urgent.number, waiting.number}
    assert numbers("state=scheduled") == {urgent.number}
    assert numbers("priority=emergency") == {urgent.number}
    assert numbers("q=zamora") == {waiting.number}
    assert numbers(f"q={waiting.number.lower()}") == {waiting.number}
    assert numbers(f"q={waiting.pk + 1000}") == {waiting.number}, "the number without its J-"


def test_the_list_filters_by_technician_and_visit_dates_on_the_same_visit(
    office_client, office, ac_repair, tech, other_tech
):
    mine, theirs = (make_job(actor=office, job_type=ac_repair) for _ in range(2))
    schedule(mine, start=at(MONDAY, 9), technicians=[tech], actor=office)
    schedule(theirs, start=at(MONDAY + timedelta(days=2), 9), technicians=[other_tech], actor=office)

    def numbers(query: str) -> set[str]:
        return {j.number for j in office_client.get(f"/jobs/?{query}").context["page"].object_list}

    assert numbers(f"technician={tech.pk}") == {mine.number}
    assert numbers(f"visit_from={MONDAY + timedelta(days=1)}") == {theirs.number}
    assert numbers(f"visit_to={MONDAY}") == {mine.number}
    assert numbers(f"technician={tech.pk}&visit_from={MONDAY + timedelta(days=1)}") == set()


def test_the_htmx_filter_answers_with_the_results_only(office_client, office, ac_repair):
    make_job(actor=office, job_type=ac_repair)
    response = office_client.get("/jobs/?state=unscheduled", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "1 job matches these filters" in html and "<html" not in html


def test_the_list_runs_the_same_number_of_queries_for_few_or_many_jobs(
    office_client, office, ac_repair, tech, other_tech
):
    def add_jobs(n: int, offset: int) -> None:
        for i in range(n):
            job = make_job(actor=office, job_type=ac_repair)
            start = at(MONDAY + timedelta(days=offset + i), 9)
            schedule(job, start=start, technicians=[tech, other_tech], actor=office)

    add_jobs(2, 0)
    office_client.get("/jobs/")  # warm the business and settings caches
    few = _count(office_client, "/jobs/")
    add_jobs(10, 10)
    assert _count(office_client, "/jobs/") == few
    assert _count(office_client, f"/jobs/?technician={tech.pk}&state=scheduled") <= few + 1


# --- Who may open the office pages ----------------------------------------------------------------------


def test_a_technician_gets_403_on_every_office_job_page(client_for, business, technician, visit, job):
    client = client_for(technician)
    customer = job.customer
    for url in (
        "/jobs/",
        f"/jobs/{job.pk}/",
        f"/jobs/new/?customer={customer.pk}",
        f"/jobs/for-customer/{customer.pk}/",
        f"/jobs/from-lead/{job.pk}/",
        f"/jobs/suggest/?job={job.pk}",
        f"/jobs/properties/{job.property_id}/equipment/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (f"/jobs/{job.pk}/act/", f"/jobs/{job.pk}/visits/", f"/jobs/{job.pk}/notes/"):
        assert client.post(url, {"action": "cancel", "reason": "x"}).status_code == 403, url
    assert Job.objects.get(pk=job.pk).state == "scheduled"


def test_jobs_is_in_the_navigation_of_the_office_roles_only(rf, business, personas):
    for role, user in personas.items():
        request = rf.get("/")
        request.user = user
        labels = [item["label"] for item in navigation(request).get("nav_items", [])]
        assert ("Jobs" in labels) == (role in ("owner", "office", "dispatcher")), role


# --- The job page ---------------------------------------------------------------------------------------


def test_the_job_page_shows_the_job_its_visits_actions_and_timeline(office_client, job, visit, tech):
    response = office_client.get(f"/jobs/{job.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert job.number in html and job.customer.display_name in html and "AC repair" in html
    assert f"/customers/{job.customer_id}/" in html and job.property.street in html
    assert tech.get_full_name() in html and "Mon Jun 3" in html
    assert response.context["actions"] == ["dispatch", "hold", "cancel"]
    codes = [event.code for event in response.context["timeline"]]
    assert codes == ["fsm.job.scheduled", "fsm.job.created"], "newest first"


def test_the_job_page_links_the_lead_it_was_booked_from(office_client, office, ac_repair):
    job = make_job(actor=office, job_type=ac_repair, origin_lead_id=4242)
    assert 'href="/leads/4242/"' in office_client.get(f"/jobs/{job.pk}/").content.decode()


def test_the_job_page_shows_what_the_crew_recorded(office_client, job, visit, tech):
    services.note_add(job=job, actor=tech, text="Capacitor was bulging")
    services.checklist_toggle(job=job, actor=tech, item="Check the filter", done=True)
    html = office_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Capacitor was bulging" in html
    assert "Check the filter" in html and "Test the thermostat" in html


def test_the_office_saves_its_notes(office_client, job):
    response = office_client.post(f"/jobs/{job.pk}/notes/", {"office_notes": "Call before coming"})
    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).office_notes == "Call before coming"


# --- Scheduling a visit from the job page ---------------------------------------------------------------


def test_scheduling_a_visit_books_it_and_shows_the_warnings_after_saving(office_client, job, tech, plumbing):
    lacking = make_technician(skills=[plumbing], first_name="Pat")
    response = office_client.post(
        f"/jobs/{job.pk}/visits/",
        visit_post(lacking, start="10:00", duration="60", **{"visit-arrival_from": "09:30"})
        | {"visit-arrival_to": "11:30"},
        follow=True,
    )
    visit = Visit.objects.get(job=job)
    assert (visit.start, visit.end) == (at(MONDAY, 10), at(MONDAY, 11))
    assert (visit.arrival_window_start, visit.arrival_window_end) == (at(MONDAY, 9, 30), at(MONDAY, 11, 30))
    shown = [str(m) for m in response.context["messages"]]
    assert any("Visit booked" in m for m in shown)
    assert any("lacks the skill HVAC repair" in m for m in shown), shown


def test_a_visit_that_ends_before_it_starts_is_a_field_error_and_nothing_is_saved(office_client, job, tech):
    response = office_client.post(f"/jobs/{job.pk}/visits/", visit_post(tech, duration="-30"))
    assert response.status_code == 200
    assert response.context["visit_form"].errors["duration"] == ["The visit must end after it starts."]
    response = office_client.post(
        f"/jobs/{job.pk}/visits/",
        visit_post(tech, **{"visit-arrival_from": "11:00", "visit-arrival_to": "10:00"}),
    )
    assert "arrival_to" in response.context["visit_form"].errors
    assert not Visit.objects.exists() and Job.objects.get(pk=job.pk).state == "unscheduled"


def test_an_overlap_needs_an_explicit_book_anyway(office_client, office, ac_repair, visit, tech):
    other = make_job(actor=office, job_type=ac_repair)
    data = visit_post(tech, start="10:00", duration="60")
    response = office_client.post(f"/jobs/{other.pk}/visits/", data)
    html = response.content.decode()
    assert response.status_code == 200 and "Double booking" in html and "Book anyway" in html
    assert "is already on" in html
    assert not other.visits.exists()

    response = office_client.post(f"/jobs/{other.pk}/visits/", data | {"visit-confirm": "on"}, follow=True)
    assert other.visits.count() == 1
    assert any("is already on" in str(m) for m in response.context["messages"]), "the overlap is a warning"


# --- Suggestions ----------------------------------------------------------------------------------------


def test_suggest_lists_the_best_open_times_for_the_job(office_client, job, tech, other_tech, visit):
    response = office_client.get(f"/jobs/suggest/?job={job.pk}&visit-date={MONDAY}")
    slots = response.context["suggestions"].slots
    assert 0 < len(slots) <= 5
    assert slots == sorted(
        slots, key=lambda s: (s.start, s.extra_travel_minutes, s.travel_minutes, s.technician.pk)
    )
    assert all(not (s.technician == tech and s.start < at(MONDAY, 10, 30)) for s in slots), "tech is busy"
    html = response.content.decode()
    assert "/jobs/visit-fields/?visit-date=2030-06-03" in html and "Choose one" in html


def test_suggest_from_the_booking_form_uses_the_picked_job_type_and_address(office_client, ac_repair, tech):
    customer = make_customer()
    prop = customer.properties.get()
    url = f"/jobs/suggest/?job_type={ac_repair.pk}&property={prop.pk}&visit-date={MONDAY}&visit-duration=30"
    suggestions = office_client.get(url).context["suggestions"]
    first = suggestions.slots[0]
    assert suggestions.minutes == 30 and first.end - first.start == timedelta(minutes=30)
    assert at(MONDAY, 8) <= first.start < at(MONDAY, 10) and first.technician == tech
    without_type = office_client.get(f"/jobs/suggest/?property={prop.pk}").context["suggestions"]
    assert without_type.slots == [] and "Pick a job type" in without_type.problem


def test_choosing_a_suggestion_fills_the_visit_fields(office_client, tech):
    query = "visit-date=2030-06-03&visit-start_time=13:30&visit-duration=90&visit-arrival_from=13:00"
    html = office_client.get(f"/jobs/visit-fields/?{query}&visit-technicians={tech.pk}").content.decode()
    assert 'value="2030-06-03"' in html and 'value="13:30"' in html and 'value="90"' in html
    assert 'value="13:00"' in html, "the arrival window typed is kept"
    assert re.search(
        rf'<input type="checkbox" name="visit-technicians" value="{tech.pk}"[^>]* checked>', html
    )


# --- The office's transitions ---------------------------------------------------------------------------


def test_dispatch_hold_resume_and_cancel_through_the_page(office_client, job, visit):
    def act(**data):
        return office_client.post(f"/jobs/{job.pk}/act/", data, follow=True)

    act(action="dispatch")
    assert Job.objects.get(pk=job.pk).state == "dispatched"
    response = act(action="hold", reason="")
    assert any("Say why" in str(m) for m in response.context["messages"])
    act(action="hold", reason="Waiting for the part")
    job.refresh_from_db()
    assert (job.state, job.hold_reason) == ("on_hold", "Waiting for the part")
    assert "Waiting for the part" in office_client.get(f"/jobs/{job.pk}/").content.decode()
    act(action="resume")
    assert Job.objects.get(pk=job.pk).state == "dispatched"
    act(action="cancel", reason="Customer sold the house")
    job.refresh_from_db()
    assert job.state == "canceled" and job.cancel_reason == "Customer sold the house"
    codes = set(Event.objects.filter(data__job_id=job.pk).values_list("code", flat=True))
    assert {"fsm.job.dispatched", "fsm.job.held", "fsm.job.resumed", "fsm.job.canceled"} <= codes
    assert office_client.get(f"/jobs/{job.pk}/").context["actions"] == []


def test_canceling_a_visit_puts_the_job_back_in_the_queue(office_client, job, visit):
    office_client.post(f"/jobs/{job.pk}/act/", {"action": "cancel_visit", "visit": visit.pk})
    assert Visit.objects.get(pk=visit.pk).state == "canceled"
    assert Job.objects.get(pk=job.pk).state == "unscheduled"


# --- Booking from a customer ----------------------------------------------------------------------------


def booking(customer, **extra) -> dict:
    prop = customer.properties.first()
    data = {"customer": customer.pk, "property": prop.pk if prop else "new", "priority": "high"}
    return data | {"description": "Water on the floor"} | extra


def test_the_customer_page_has_a_new_job_button_and_loads_its_jobs(office_client, office):
    customer = make_customer()
    html = office_client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'href="/jobs/new/?customer={customer.pk}"' in html
    assert f'hx-get="/jobs/for-customer/{customer.pk}/"' in html


def test_booking_a_job_from_the_customer_page(office_client, office, ac_repair):
    customer = make_customer()
    form = office_client.get(f"/jobs/new/?customer={customer.pk}").context["form"]
    assert form.fields["property"].initial == str(customer.properties.get().pk)
    response = office_client.post("/jobs/new/", booking(customer, job_type=ac_repair.pk))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.customer, job.property, job.job_type, job.priority) == (
        customer,
        customer.properties.get(),
        ac_repair,
        "high",
    )
    assert job.state == "unscheduled" and job.created_by == office


def test_booking_with_a_new_address_and_a_visit_in_one_go(office_client, ac_repair, tech):
    customer = make_customer(properties=[])
    data = booking(
        customer,
        job_type=ac_repair.pk,
        schedule_now="on",
        **{
            "address-street": "77 Rainey St",
            "address-city": "Austin",
            "address-state": "tx",
            "address-zip_code": "78701",
        },
    ) | visit_post(tech, start="13:00", duration="")
    response = office_client.post("/jobs/new/", data)
    job = Job.objects.get()
    assert response.status_code == 302
    assert job.property.street == "77 Rainey St" and job.property.state == "TX"
    visit = job.visits.get()
    assert (visit.start, visit.end) == (at(MONDAY, 13), at(MONDAY, 14, 30)), "the job type's 90 minutes"
    assert job.state == "scheduled" and list(visit.technicians.all()) == [tech]


def test_bad_input_on_the_booking_form_shows_field_errors_and_saves_nothing(office_client, ac_repair, tech):
    customer = make_customer()
    cases = [
        (booking(customer, description=""), "form", "description", "Say what the job is."),
        (
            booking(
                customer,
                requested_window_start="2030-06-03T10:00",
                requested_window_end="2030-06-03T09:00",
            ),
            "form",
            "requested_window_end",
            "The requested window must end after it starts.",
        ),
        (booking(customer, property="new", **{"address-street": "1 Main"}), "address_form", "zip_code", None),
        (
            booking(customer, job_type=ac_repair.pk, schedule_now="on") | visit_post(tech, duration="0"),
            "visit_form",
            "duration",
            "The visit must end after it starts.",
        ),
        (
            booking(customer, job_type=ac_repair.pk, schedule_now="on")
            | visit_post(tech, **{"visit-date": "2030-02-30"}),
            "visit_form",
            "date",
            None,
        ),
    ]
    for data, form_name, field, message in cases:
        response = office_client.post("/jobs/new/", data)
        assert response.status_code == 200
        errors = response.context[form_name].errors
        assert field in errors, (field, errors)
        if message:
            assert errors[field] == [message]
    assert not Job.objects.exists() and not Visit.objects.exists()
    assert Property.objects.filter(customer=customer).count() == 1


def test_a_refused_visit_rolls_back_the_job_and_the_new_address(
    office_client, office, ac_repair, visit, tech
):
    customer = make_customer(properties=[])
    data = booking(
        customer,
        job_type=ac_repair.pk,
        schedule_now="on",
        **{
            "address-street": "9 Elm",
            "address-city": "Austin",
            "address-state": "TX",
            "address-zip_code": "78702",
        },
    ) | visit_post(tech, start="09:30", duration="60")
    response = office_client.post("/jobs/new/", data)
    assert "Double booking" in response.content.decode()
    assert not Job.objects.filter(customer=customer).exists() and not customer.properties.exists()

    response = office_client.post("/jobs/new/", data | {"visit-confirm": "on"})
    assert response.status_code == 302
    assert Job.objects.get(customer=customer).visits.count() == 1


def test_new_job_without_a_customer_goes_to_the_customer_list(office_client):
    response = office_client.get("/jobs/new/")
    assert response.status_code == 302 and response["Location"] == "/customers/"


# --- The customer page's fragment and equipment ---------------------------------------------------------


def test_the_customer_fragment_lists_jobs_next_visit_equipment_and_history(office_client, office, job, visit):
    customer = job.customer
    second = Property.objects.create(
        customer=customer, street="5 Oak St", city="Austin", state="TX", zip_code="78702"
    )
    services.equipment_save(
        property=job.property, actor=office, kind="Furnace", brand="Rheem", serial_number="S1"
    )
    response = office_client.get(f"/jobs/for-customer/{customer.pk}/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert job.number in html and "Mon Jun 3, 9:00 AM" in html and "Scheduled" in html
    assert "Furnace" in html and "Rheem" in html and "S1" in html
    records = {r.property.pk: r for r in response.context["data"].properties}
    assert [j.pk for j in records[job.property_id].jobs] == [job.pk] and records[second.pk].jobs == []


def test_the_customer_fragment_runs_a_constant_number_of_queries(office_client, office, ac_repair, tech):
    customer = make_customer(properties=[services_property(), services_property(street="9 Elm St")])
    for prop in customer.properties.all():
        services.equipment_save(property=prop, actor=office, kind="Condenser")

    def add_jobs(n: int, offset: int) -> None:
        for i in range(n):
            job = make_job(actor=office, customer=customer, job_type=ac_repair)
            schedule(job, start=at(MONDAY + timedelta(days=offset + i), 9), technicians=[tech], actor=office)

    add_jobs(1, 0)
    url = f"/jobs/for-customer/{customer.pk}/"
    office_client.get(url)
    few = _count(office_client, url)
    add_jobs(4, 1)
    assert _count(office_client, url) == few


def test_equipment_is_added_corrected_and_bad_dates_are_field_errors(office_client, job):
    url = f"/jobs/properties/{job.property_id}/equipment/"
    response = office_client.post(url, {"kind": "Water heater", "installed_on": "2031-13-01"})
    assert "installed_on" in response.context["add_form"].errors
    future = (timezone.localdate() + timedelta(days=400)).isoformat()
    response = office_client.post(url, {"kind": "Water heater", "installed_on": future})
    assert response.context["add_form"].errors["installed_on"] == ["The install date is in the future."]
    response = office_client.post(url, {"kind": "", "brand": "Rheem"})
    assert "kind" in response.context["add_form"].errors
    assert not Equipment.objects.exists()

    office_client.post(url, {"kind": "Water heater", "brand": "Rheem", "installed_on": "2019-06-30"})
    item = Equipment.objects.get()
    assert (item.brand, item.installed_on) == ("Rheem", date(2019, 6, 30))
    assert 'value="Rheem"' in office_client.get(f"{url}?edit={item.pk}").content.decode()
    office_client.post(url, {"equipment": item.pk, "kind": "Water heater", "brand": "A.O. Smith"})
    item.refresh_from_db()
    assert item.brand == "A.O. Smith" and item.installed_on is None


# --- The lead handoff -----------------------------------------------------------------------------------


@pytest.fixture
def booked_lead(office, django_capture_on_commit_callbacks):
    lead = make_qualified_lead(actor=office)
    with django_capture_on_commit_callbacks(execute=True):
        return crm.lead_book(lead=lead, actor=office)


def test_the_booked_leads_page_links_to_its_job_which_redirects(office_client, booked_lead):
    job = Job.objects.get(origin_lead_id=booked_lead.pk)
    html = office_client.get(f"/leads/{booked_lead.pk}/").content.decode()
    assert f'href="/jobs/from-lead/{booked_lead.pk}/"' in html
    response = office_client.get(f"/jobs/from-lead/{booked_lead.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    htmx = office_client.get(f"/jobs/from-lead/{booked_lead.pk}/?try=3", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == f"/jobs/{job.pk}/"


def test_before_the_job_exists_the_link_waits_and_polls(office_client):
    response = office_client.get("/jobs/from-lead/987/")
    html = response.content.decode()
    assert response.status_code == 200 and "The job is being created" in html
    assert 'hx-get="/jobs/from-lead/987/?try=1"' in html and 'hx-trigger="every 2s"' in html
    last = office_client.get("/jobs/from-lead/987/?try=30", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in last and "no job for this lead yet" in last


def test_the_office_edits_the_details_and_a_bad_window_is_a_field_error(office_client, job, ac_repair):
    data = {"details-job_type": ac_repair.pk, "details-priority": "emergency", "details-description": "Leak"}
    bad = data | {
        "details-requested_window_start": "2030-06-03T10:00",
        "details-requested_window_end": "2030-06-03T08:00",
    }
    response = office_client.post(f"/jobs/{job.pk}/edit/", bad)
    assert response.context["details_form"].errors["requested_window_end"] == [
        "The requested window must end after it starts."
    ]
    assert Job.objects.get(pk=job.pk).priority == "normal"
    assert office_client.post(f"/jobs/{job.pk}/edit/", data).status_code == 302
    job.refresh_from_db()
    assert (job.priority, job.description) == ("emergency", "Leak")

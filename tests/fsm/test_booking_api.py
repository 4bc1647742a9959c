"""Booking a job: one service (fsm.services.job_book) behind the office page and POST /api/v1/jobs/."""

import pytest
from rest_framework.test import APIClient

from customers.models import Property
from events.models import Event
from fsm.models import Job, Visit
from tests.factories import make_customer
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(dispatcher, business):
    client = APIClient()
    client.force_authenticate(dispatcher)
    return client


def _visit(tech, hour=9, **extra) -> dict:
    return {"start": at(MONDAY, hour).isoformat(), "technicians": [tech.pk], **extra}


def test_the_api_books_a_job_at_a_new_address_with_its_first_visit(api, ac_repair, tech):
    customer = make_customer(first_name="Rosa", last_name="Delgado")
    response = api.post(
        "/api/v1/jobs/",
        {
            "customer": customer.pk,
            "job_type": ac_repair.pk,
            "description": "Upstairs unit blowing warm air",
            "address": {"street": "500 W 2nd St", "city": "Austin", "state": "TX", "zip_code": "78701"},
            "visit": _visit(tech),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    job = Job.objects.get(pk=body["id"])
    assert job.state == "scheduled" and job.property.street == "500 W 2nd St"
    assert body["number"] == job.number and body["warnings"] == []
    visit = job.visits.get()
    assert (visit.end - visit.start).total_seconds() == ac_repair.default_duration_minutes * 60
    assert [v["technician_ids"] for v in body["visits"]] == [[tech.pk]]
    assert Event.objects.filter(milestone="job.scheduled", subject_id=str(job.pk)).count() == 1


def test_an_overlap_is_a_409_and_nothing_is_saved_not_even_the_new_address(api, office, ac_repair, tech):
    busy = make_customer(first_name="Ana")
    schedule(Job.objects.create(customer=busy, number="J-9000"), start=at(MONDAY, 9), technicians=[tech])
    customer = make_customer(first_name="Rosa")
    addresses, jobs = Property.objects.count(), Job.objects.count()
    payload = {
        "customer": customer.pk,
        "job_type": ac_repair.pk,
        "address": {"street": "9 Elm St", "city": "Austin", "state": "TX", "zip_code": "78702"},
        "visit": _visit(tech),
    }
    response = api.post("/api/v1/jobs/", payload, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert response.json()["part"] == "visit" and response.json()["conflicts"]
    assert (Property.objects.count(), Job.objects.count()) == (addresses, jobs)

    payload["visit"]["confirm"] = True
    confirmed = api.post("/api/v1/jobs/", payload, format="json")
    assert confirmed.status_code == 201
    assert [w["code"] for w in confirmed.json()["warnings"]] == ["overlap"]


def test_the_api_names_the_part_and_field_a_booking_is_refused_for(api, ac_repair, tech):
    customer = make_customer()
    bad_zip = api.post(
        "/api/v1/jobs/",
        {
            "customer": customer.pk,
            "address": {"street": "9 Elm St", "city": "Austin", "state": "TX", "zip_code": "7870"},
        },
        format="json",
    )
    assert bad_zip.status_code == 400 and bad_zip.json()["part"] == "address", bad_zip.json()
    assert bad_zip.json()["errors"] == {"address.zip_code": ["Use a 5-digit ZIP code."]}

    backwards = api.post(
        "/api/v1/jobs/",
        {
            "customer": customer.pk,
            "job_type": ac_repair.pk,
            "visit": _visit(tech, end=at(MONDAY, 8).isoformat()),
        },
        format="json",
    )
    assert backwards.status_code == 400 and backwards.json()["part"] == "visit", backwards.json()
    assert "end" in backwards.json()["errors"]

    both = api.post(
        "/api/v1/jobs/",
        {
            "customer": customer.pk,
            "property": customer.properties.first().pk,
            "address": {"street": "9 Elm St", "city": "Austin", "state": "TX", "zip_code": "78702"},
        },
        format="json",
    )
    assert both.status_code == 400 and "address" in both.json()
    assert not Job.objects.exists() and not Visit.objects.exists()


def test_someone_elses_address_is_refused(api):
    customer, other = make_customer(), make_customer(first_name="Other")
    response = api.post(
        "/api/v1/jobs/", {"customer": customer.pk, "property": other.properties.first().pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["errors"] == {
        "property": ["That address belongs to another customer."]
    }


def test_technicians_cannot_book_or_list_jobs_through_the_api(technician, business):
    client = APIClient()
    client.force_authenticate(technician)
    assert client.get("/api/v1/jobs/").status_code == 403
    assert client.post("/api/v1/jobs/", {}, format="json").status_code == 403

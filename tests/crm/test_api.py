import pytest
from rest_framework.test import APIClient

from crm.models import Lead, WebForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(office):
    client = APIClient()
    client.force_authenticate(office)
    return client


def test_create_a_lead_through_the_api_and_walk_it(api, manual_source):
    response = api.post(
        "/api/v1/leads/",
        {"name": "Ana Ruiz", "phone": "(512) 555-0199", "source": manual_source.slug, "external_id": "x1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    lead_id = response.json()["id"]
    again = api.post(
        "/api/v1/leads/",
        {"name": "Ana Ruiz", "phone": "(512) 555-0199", "source": manual_source.slug, "external_id": "x1"},
        format="json",
    )
    assert again.status_code == 200 and again.json()["id"] == lead_id
    assert api.post(f"/api/v1/leads/{lead_id}/qualify/").json()["state"] == "qualified"
    booked = api.post(f"/api/v1/leads/{lead_id}/book/", {"service": "AC repair"}, format="json")
    assert booked.json()["state"] == "booked"


def test_an_illegal_transition_is_a_400_naming_the_state(api, manual_source):
    lead_id = api.post(
        "/api/v1/leads/", {"name": "A", "phone": "5125550199", "source": manual_source.slug}, format="json"
    ).json()["id"]
    response = api.post(f"/api/v1/leads/{lead_id}/win/")
    assert response.status_code == 400 and response.json()["code"] == "illegal_transition"
    assert "state" in response.json()["errors"]


def test_lose_needs_a_known_reason(api, manual_source):
    lead_id = api.post(
        "/api/v1/leads/", {"name": "A", "phone": "5125550199", "source": manual_source.slug}, format="json"
    ).json()["id"]
    assert api.post(f"/api/v1/leads/{lead_id}/lose/", {"reason": "meh"}, format="json").status_code == 400
    assert (
        api.post(f"/api/v1/leads/{lead_id}/lose/", {"reason": "price"}, format="json").json()["state"]
        == "lost"
    )


def test_a_bad_phone_is_400_naming_phone(api, manual_source):
    response = api.post(
        "/api/v1/leads/", {"name": "A", "phone": "12", "source": manual_source.slug}, format="json"
    )
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_leads_filter_by_state_and_source(api, manual_source, web_source):
    api.post(
        "/api/v1/leads/", {"name": "A", "phone": "5125550199", "source": manual_source.slug}, format="json"
    )
    api.post("/api/v1/leads/", {"name": "B", "phone": "5125550198", "source": web_source.slug}, format="json")
    assert api.get("/api/v1/leads/", {"source": "website"}).json()["count"] == 1
    assert api.get("/api/v1/leads/", {"state": "new"}).json()["count"] == 2
    assert api.get("/api/v1/leads/", {"q": "555-0198"}).json()["count"] == 1


def test_sources_campaigns_and_forms_are_in_the_api(api, web_source):
    assert api.post("/api/v1/campaigns/", {"name": "Spring", "cost": "-5"}, format="json").status_code == 400
    assert (
        api.post(
            "/api/v1/campaigns/",
            {"name": "Spring", "cost": "500.00", "utm_campaign": "spring"},
            format="json",
        ).status_code
        == 201
    )
    bad = api.post(
        "/api/v1/forms/",
        {"name": "Site", "source": web_source.pk, "allowed_origins": ["example.com/path"]},
        format="json",
    )
    assert bad.status_code == 400 and "allowed_origins" in bad.json()
    assert api.get("/api/v1/sources/").json()["count"] == 1


def test_technicians_get_403_on_leads(technician):
    client = APIClient()
    client.force_authenticate(technician)
    assert client.get("/api/v1/leads/").status_code == 403


def test_a_web_form_made_through_the_api_takes_the_settings_pages_path(api, web_source, office):
    from crm.models import ServiceType
    from events.models import Event

    ServiceType.objects.create(name="Drains")
    created = api.post(
        "/api/v1/forms/",
        {
            "name": "Site",
            "source": web_source.pk,
            "services": ["Drains"],
            "allowed_origins": ["HTTPS://Example.com:443/", "https://example.com", "http://localhost:8080"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    # the same origin rule as the settings page: normalized the way browsers send Origin, once each
    assert body["allowed_origins"] == ["https://example.com", "http://localhost:8080"]
    assert body["services"] == ["Drains"] and body["public_id"]
    assert Event.objects.filter(code="crm.webform.created", subject_id=str(body["id"])).count() == 1

    changed = api.patch(f"/api/v1/forms/{body['id']}/", {"headline": "Book a plumber"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["services"] == ["Drains"], "a PATCH leaves what it did not send as it was"
    assert changed.json()["allowed_origins"] == ["https://example.com", "http://localhost:8080"]
    updated = Event.objects.get(code="crm.webform.updated", subject_id=str(body["id"]))
    assert updated.data["changed"] == ["headline"]


def test_the_api_refuses_a_bad_origin_list_naming_the_site(api, web_source):
    for origins, expected in (
        ("https://example.com", "A list of origins"),
        (["https://example.com/contact"], "“https://example.com/contact” is not a site address"),
        (["https://example.com:99999"], "impossible port"),
    ):
        response = api.post(
            "/api/v1/forms/",
            {"name": "Site", "source": web_source.pk, "allowed_origins": origins},
            format="json",
        )
        assert response.status_code == 400 and expected in response.json()["allowed_origins"][0]
    assert not WebForm.objects.exists()

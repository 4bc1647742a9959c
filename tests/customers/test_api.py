import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Customer
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

NEW = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "phones": [{"number": "(512) 555-0199", "kind": "mobile"}],
    "emails": [{"email": "ana@example.com"}],
    "properties": [{"street": "1944 Stanton St", "city": "Round Rock", "state": "TX", "zip_code": "78665"}],
}


@pytest.fixture
def api():
    def make(user=None, token=False) -> APIClient:
        client = APIClient()
        if user and token:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        elif user:
            client.force_authenticate(user)
        return client

    return make


def test_office_creates_a_customer_with_a_token(api, office):
    response = api(office, token=True).post("/api/v1/customers/", NEW, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phones"][0]["number"] == "+15125550199"
    assert body["phones"][0]["national"] == "(512) 555-0199"
    assert body["properties"][0]["zip_code"] == "78665"


def test_a_bad_phone_is_a_400_naming_the_field(api, office):
    response = api(office).post(
        "/api/v1/customers/", {**NEW, "phones": [{"number": "555-12"}]}, format="json"
    )
    assert response.status_code == 400
    assert "phones[0].number" in response.json()["errors"]
    assert not Customer.objects.exists()


def test_a_bad_email_is_a_400_naming_the_field(api, office):
    response = api(office).post("/api/v1/customers/", {**NEW, "emails": [{"email": "nope"}]}, format="json")
    assert response.status_code == 400
    assert "emails[0].email" in response.json()["errors"]


def test_a_missing_required_property_field_is_a_400(api, office):
    response = api(office).post(
        "/api/v1/customers/", {**NEW, "properties": [{"street": "1 Main"}]}, format="json"
    )
    assert response.status_code == 400
    assert "properties" in response.json()


def test_anonymous_gets_401(api):
    assert api().get("/api/v1/customers/").status_code == 401


def test_a_bad_token_gets_401(api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/customers/").status_code == 401


def test_dispatcher_reads_but_cannot_write(api, dispatcher, office):
    make_customer(actor=office)
    client = api(dispatcher)
    assert client.get("/api/v1/customers/").status_code == 200
    assert client.post("/api/v1/customers/", NEW, format="json").status_code == 403


def test_technician_gets_403_on_customers(api, technician):
    assert api(technician).get("/api/v1/customers/").status_code == 403


def test_a_missing_customer_is_404(api, office):
    assert api(office).get("/api/v1/customers/999999/").status_code == 404


def test_list_is_paginated_searchable_and_filterable(api, office):
    wanted = make_customer(actor=office, last_name="Zyzzyva", phones=["5125550199"])
    make_customer(actor=office, last_name="Other")
    client = api(office)
    body = client.get("/api/v1/customers/", {"q": "555-0199"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == wanted.pk
    assert client.get("/api/v1/customers/", {"kind": "commercial"}).json()["count"] == 0
    assert client.get("/api/v1/customers/", {"zip_code": "78704"}).json()["count"] == 2


def test_patch_changes_a_customer_through_the_service(api, office):
    customer = make_customer(actor=office, first_name="Ana")
    response = api(office).patch(f"/api/v1/customers/{customer.pk}/", {"first_name": "Anna"}, format="json")
    assert response.status_code == 200 and response.json()["first_name"] == "Anna"


def test_merge_action_and_its_errors(api, office):
    a, b = make_customer(actor=office), make_customer(actor=office)
    client = api(office)
    assert (
        client.post(f"/api/v1/customers/{a.pk}/merge/", {"duplicate": a.pk}, format="json").status_code == 400
    )
    response = client.post(f"/api/v1/customers/{a.pk}/merge/", {"duplicate": b.pk}, format="json")
    assert response.status_code == 200
    again = client.post(f"/api/v1/customers/{a.pk}/merge/", {"duplicate": b.pk}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_merged"
    assert client.post(f"/api/v1/customers/{a.pk}/merge/", {"duplicate": 0}, format="json").status_code == 404


def test_merged_customers_drop_out_of_the_list(api, office):
    a, b = make_customer(actor=office), make_customer(actor=office)
    from customers.services import customer_merge

    customer_merge(survivor=a, duplicate=b, actor=office)
    ids = [c["id"] for c in api(office).get("/api/v1/customers/").json()["results"]]
    assert ids == [a.pk]


def test_properties_are_listed_and_filtered_by_customer(api, office):
    a, b = make_customer(actor=office), make_customer(actor=office)
    body = api(office).get("/api/v1/properties/", {"customer": a.pk}).json()
    assert [p["customer"] for p in body["results"]] == [a.pk]
    assert b.pk not in [p["customer"] for p in body["results"]]


def test_the_openapi_schema_is_served(api, office):
    response = api(office).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json() if hasattr(response, "json") else None
    assert "/api/v1/customers/{id}/merge/" in schema["paths"]

"""POST/PUT/PATCH /api/v1/pricebook-items/: the same service as the pages, 4xx JSON naming the field."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from fsm.pricebook.models import PricebookItem
from tests.fsm.factories import make_pricebook_item

pytestmark = pytest.mark.django_db
URL = "/api/v1/pricebook-items/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(office, business):
    return _api(office)


def test_the_api_creates_a_material_priced_from_cost_plus_markup(api):
    response = api.post(
        URL,
        {
            "kind": "material",
            "code": "M-CAP",
            "name": "Capacitor 45/5",
            "cost": "18.45",
            "markup_percent": 35,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["price"] == "24.91" and body["margin"] == "6.46" and body["active"] is True
    assert PricebookItem.objects.get(code="M-CAP").price == Decimal("24.91")


def test_a_negative_price_is_a_400_naming_the_price(api):
    response = api.post(URL, {"code": "X", "name": "X", "price": "-10.00"}, format="json")
    assert response.status_code == 400
    assert "price" in response.json()["errors"]
    assert not PricebookItem.objects.exists()


def test_more_than_two_decimals_is_a_400_naming_the_price(api):
    response = api.post(URL, {"code": "X", "name": "X", "price": "10.005"}, format="json")
    assert response.status_code == 400 and "price" in response.json()


def test_a_duplicate_code_in_another_case_is_a_400_naming_the_code(api):
    make_pricebook_item(code="WH-50G")
    response = api.post(URL, {"code": "wh-50g", "name": "Again", "price": "1"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate" and "code" in response.json()["errors"]


def test_patch_changes_only_what_it_names_and_actions_deactivate(api):
    item = make_pricebook_item(code="WH-50G", cost="910", member_price="1611")
    response = api.patch(f"{URL}{item.pk}/", {"price": "1995.00"}, format="json")
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert (item.price, item.cost, item.member_price) == (
        Decimal("1995.00"),
        Decimal("910.00"),
        Decimal("1611"),
    )
    assert api.post(f"{URL}{item.pk}/deactivate/").json()["active"] is False
    assert api.get(URL, {"active": "true"}).json()["count"] == 0
    assert api.post(f"{URL}{item.pk}/reactivate/").json()["active"] is True


def test_the_list_filters_by_kind_and_searches(api):
    make_pricebook_item(code="WH-50G")
    make_pricebook_item(code="M-CAP", name="Capacitor", kind="material", price="20")
    assert [i["code"] for i in api.get(URL, {"kind": "material"}).json()["results"]] == ["M-CAP"]
    assert [i["code"] for i in api.get(URL, {"q": "water"}).json()["results"]] == ["WH-50G"]
    assert [i["code"] for i in api.get(f"{URL}search/", {"q": "m-c"}).json()] == ["M-CAP"]


@pytest.mark.parametrize("role", ["dispatcher", "technician"])
def test_other_roles_cannot_use_the_pricebook_api(role, personas, business):
    assert _api(personas[role]).get(URL).status_code == 403
    assert _api(personas[role]).post(URL, {"code": "X", "name": "X", "price": "1"}).status_code == 403


def test_the_pricebook_is_in_the_openapi_schema(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/pricebook-items/" in schema["paths"]
    assert "/api/v1/pricebook-items/{id}/deactivate/" in schema["paths"]
    assert "PricebookItem" in schema["components"]["schemas"]

"""The pricebook pages: who sees what, the form's field errors, deactivating, and the search JSON."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fsm.pricebook.models import PricebookItem
from tests.fsm.factories import make_pricebook_item

pytestmark = pytest.mark.django_db

FORM = {
    "kind": "service",
    "code": "DR-MAIN",
    "name": "Main line drain clear",
    "description": "Clear the main line through a cleanout.",
    "category": "Plumbing · Drains",
    "unit": "each",
    "cost": "70",
    "markup_percent": "",
    "price": "325",
    "member_price": "",
    "taxable": "",
}


def _codes(response) -> list[str]:
    return [item.code for item in response.context["page"].object_list]


@pytest.fixture
def item(db):
    return make_pricebook_item(code="WH-50G", cost="910")


@pytest.mark.parametrize("role", ["owner", "office", "dispatcher", "technician"])
def test_every_staff_role_looks_prices_up(role, personas, client_for, item, business):
    response = client_for(personas[role]).get(reverse("pricebook-list"))
    assert response.status_code == 200
    assert "WH-50G" in response.text and "$1,895.00" in response.text


def test_costs_and_margins_show_to_the_owner_and_office_only(personas, client_for, item, business):
    assert "$910.00" in client_for(personas["office"]).get(reverse("pricebook-list")).text
    page = client_for(personas["technician"]).get(reverse("pricebook-list")).text
    assert "$910.00" not in page and "Margin" not in page
    assert reverse("pricebook-edit", args=[item.pk]) not in page  # no edit links either


@pytest.mark.parametrize("role", ["dispatcher", "technician"])
def test_a_dispatcher_or_technician_cannot_edit(role, personas, client_for, item, business):
    client = client_for(personas[role])
    assert client.get(reverse("pricebook-create")).status_code == 403
    assert client.post(reverse("pricebook-create"), FORM).status_code == 403
    assert client.post(reverse("pricebook-edit", args=[item.pk]), {**FORM, "code": "X"}).status_code == 403
    assert client.post(reverse("pricebook-active", args=[item.pk]), {"active": "0"}).status_code == 403
    assert client.get(reverse("pricebook-export")).status_code == 403
    item.refresh_from_db()
    assert item.code == "WH-50G" and item.active


def test_the_office_adds_an_item_through_the_form(office, client_for, business):
    response = client_for(office).post(reverse("pricebook-create"), FORM)
    assert response.status_code == 302
    item = PricebookItem.objects.get(code="DR-MAIN")
    assert item.price == Decimal("325.00") and not item.taxable and item.category == "Plumbing · Drains"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"price": "325.999"}, "price", "more than 2 decimal places"),
        ({"price": "-5"}, "price", "cannot be negative"),
        ({"price": ""}, "price", "Give the price"),
        ({"code": "wh-50g"}, "code", "Another item has the code"),
        ({"markup_percent": "50", "cost": ""}, "cost", "A markup needs the cost"),
    ],
)
def test_the_form_shows_the_service_error_on_its_field_and_saves_nothing(
    office, client_for, business, item, change, field, message
):
    response = client_for(office).post(reverse("pricebook-create"), {**FORM, **change})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert PricebookItem.objects.count() == 1


def test_editing_an_item_changes_it_and_keeps_its_history(office, client_for, item, business):
    client = client_for(office)
    data = {**FORM, "code": "WH-50G", "name": item.name, "price": "1995.00", "cost": "910"}
    assert client.post(reverse("pricebook-edit", args=[item.pk]), data).status_code == 302
    item.refresh_from_db()
    assert item.price == Decimal("1995.00")
    page = client.get(reverse("pricebook-edit", args=[item.pk]))
    assert "WH-50G changed" in page.text


def test_deactivating_hides_an_item_from_the_list_and_the_search(office, client_for, item, business):
    client = client_for(office)
    client.post(reverse("pricebook-active", args=[item.pk]), {"active": "0"})
    item.refresh_from_db()
    assert not item.active
    assert _codes(client.get(reverse("pricebook-list"))) == []
    assert _codes(client.get(reverse("pricebook-list"), {"status": "inactive"})) == ["WH-50G"]
    assert client.get(reverse("pricebook-search"), {"q": "wh"}).json()["results"] == []
    client.post(reverse("pricebook-active", args=[item.pk]), {"active": "1"})
    item.refresh_from_db()
    assert item.active


def test_the_list_filters_and_searches_with_htmx(office, client_for, item, business):
    make_pricebook_item(code="M-CAP", name="Capacitor", kind="material", cost="18", markup_percent="100")
    client = client_for(office)
    response = client.get(reverse("pricebook-list"), {"kind": "material"}, HTTP_HX_REQUEST="true")
    assert "M-CAP" in response.text and "WH-50G" not in response.text
    assert "<html" not in response.text  # the results partial only
    assert "WH-50G" in client.get(reverse("pricebook-list"), {"q": "water heater"}).text


def test_the_search_json_gives_what_a_line_editor_needs(office, client_for, item, business):
    body = client_for(office).get(reverse("pricebook-search"), {"q": "wh-50"}).json()
    assert body["results"] == [
        {
            "id": item.pk,
            "code": "WH-50G",
            "name": "Water heater 50 gal gas replace",
            "description": "",
            "category": "",
            "kind": "service",
            "unit": "each",
            "price": "1895.00",
            "member_price": None,
            "cost": "910.00",
            "taxable": True,
        }
    ]


def test_the_search_json_hides_costs_from_technicians(technician, client_for, item, business):
    body = client_for(technician).get(reverse("pricebook-search"), {"q": "water", "limit": "x"}).json()
    assert body["results"][0]["cost"] is None and body["results"][0]["price"] == "1895.00"


def test_the_search_answers_in_a_constant_number_of_queries(
    office, client_for, business, django_assert_max_num_queries
):
    for n in range(30):
        make_pricebook_item(code=f"WH-{n}", name=f"Water heater part {n}")
    client = client_for(office)
    client.get(reverse("pricebook-search"), {"q": "wh"})
    with django_assert_max_num_queries(6):  # session, user, groups, the search
        response = client.get(reverse("pricebook-search"), {"q": "water heater", "limit": "20"})
    assert len(response.json()["results"]) == 20

"""The estimate, invoice and payment API: one action per transition, 4xx JSON naming the field."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from fsm.estimates.models import Estimate
from fsm.invoices.models import Invoice
from tests.factories import make_customer

from .estimate_helpers import austin_tax, signature_data_url, water_heater_item


@pytest.fixture
def api(office):
    client = APIClient()
    client.force_authenticate(office)
    return client


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, emails=["ana@example.org"])


def test_an_estimate_through_the_api(api, customer):
    created = api.post(
        "/api/v1/estimates/",
        {
            "customer": customer.pk,
            "property": customer.properties.first().pk,
            "title": "Water heater",
            "options": ["Good", "Best"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    good = body["options"][0]["id"]
    item = water_heater_item()
    added = api.post(
        f"/api/v1/estimates/{body['id']}/lines/", {"option": good, "item": item.pk}, format="json"
    )
    assert added.json()["options"][0]["total"] == "2051.34"
    bad = api.post(
        f"/api/v1/estimates/{body['id']}/lines/",
        {"option": good, "name": "Valve", "unit_price": "1.234"},
        format="json",
    )
    assert bad.status_code == 400 and "unit_price" in str(bad.json())
    best = body["options"][1]["id"]
    api.post(
        f"/api/v1/estimates/{body['id']}/lines/",
        {"option": best, "name": "Tankless", "unit_price": "4295"},
        format="json",
    )
    sent = api.post(f"/api/v1/estimates/{body['id']}/send/", {"sms": True, "email": False}, format="json")
    assert sent.json()["state"] == "sent"
    blank = api.post(
        f"/api/v1/estimates/{body['id']}/accept/",
        {"option": good, "signer_name": "Ana", "signature": ""},
        format="json",
    )
    assert blank.status_code == 400 and "signature" in str(blank.json())
    accepted = api.post(
        f"/api/v1/estimates/{body['id']}/accept/",
        {"option": good, "signer_name": "Ana Ruiz", "signature": signature_data_url()},
        format="json",
    )
    assert accepted.json()["state"] == "accepted" and accepted.json()["accepted_total"] == "2051.34"
    again = api.post(f"/api/v1/estimates/{body['id']}/decline/", {"reason": "changed my mind"}, format="json")
    assert again.status_code == 400
    assert Estimate.objects.get().state == Estimate.State.ACCEPTED


def test_an_invoice_through_the_api(api, customer):
    invoice = api.post("/api/v1/invoices/", {"customer": customer.pk}, format="json").json()
    api.post(
        f"/api/v1/invoices/{invoice['id']}/lines/",
        {"name": "Drain cleaning", "unit_price": "240"},
        format="json",
    )
    issued = api.post(f"/api/v1/invoices/{invoice['id']}/issue/", {}, format="json").json()
    assert issued["state"] == "issued" and issued["number"].startswith("INV-") and issued["total"] == "259.80"
    over = api.post(
        f"/api/v1/invoices/{invoice['id']}/pay/", {"method": "cash", "amount": "300"}, format="json"
    )
    assert over.status_code == 400 and "amount" in over.json()["errors"]
    paid = api.post(
        f"/api/v1/invoices/{invoice['id']}/pay/", {"method": "cash", "amount": "259.80"}, format="json"
    )
    assert paid.status_code == 201
    assert Invoice.objects.get().amount_paid == Decimal("259.80")
    assert api.get("/api/v1/payments/").json()["count"] == 1
    edit = api.post(
        f"/api/v1/invoices/{invoice['id']}/lines/", {"name": "More", "unit_price": "1"}, format="json"
    )
    assert edit.status_code == 400 and edit.json()["code"] == "not_draft"


def test_roles(client_for, technician, dispatcher):
    assert client_for(technician).get("/api/v1/estimates/").status_code == 403
    assert client_for(dispatcher).get("/api/v1/estimates/").status_code == 200
    assert client_for(dispatcher).get("/api/v1/invoices/").status_code == 403


def test_the_schema_names_them(client_for, owner):
    schema = client_for(owner).get("/api/v1/schema/").content
    for path in (b"/api/v1/estimates/{id}/accept/", b"/api/v1/invoices/{id}/pay/", b"/api/v1/payments/"):
        assert path in schema

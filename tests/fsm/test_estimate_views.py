"""The office's estimate pages: who may open them, the editor's forms and their refusals."""

from decimal import Decimal

import pytest

from fsm.estimates.models import Estimate, EstimateLine
from tests.factories import make_customer

from .estimate_helpers import austin_tax, good_better_best, signature_data_url, water_heater_item


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])


@pytest.fixture
def estimate(customer, office):
    return good_better_best(customer=customer, actor=office)


def test_who_opens_the_list(client_for, owner, office, dispatcher, technician, estimate):
    for user in (owner, office, dispatcher):
        response = client_for(user).get("/estimates/")
        assert response.status_code == 200 and estimate.number.encode() in response.content
    assert client_for(technician).get("/estimates/").status_code == 403
    assert client_for(technician).get(f"/estimates/{estimate.pk}/").status_code == 404  # not on its job


def test_the_list_filters_by_state_and_search(client_for, office, estimate, customer):
    client = client_for(office)
    assert estimate.number.encode() in client.get("/estimates/?state=draft").content
    assert estimate.number.encode() not in client.get("/estimates/?state=accepted").content
    assert estimate.number.encode() in client.get("/estimates/?q=Ruiz").content
    assert estimate.number.encode() in client.get(f"/estimates/?q={estimate.number}").content
    assert estimate.number.encode() in client.get("/estimates/?min_amount=4000").content  # Best: $4,649.34
    assert estimate.number.encode() not in client.get("/estimates/?min_amount=5000").content


def test_a_new_estimate_from_the_customer(client_for, office, customer):
    client = client_for(office)
    assert client.get(f"/estimates/new/?customer={customer.pk}").status_code == 200
    response = client.post(
        "/estimates/new/",
        {
            "customer": customer.pk,
            "title": "AC tune-up",
            "property": customer.properties.first().pk,
            "options": "3",
        },
    )
    estimate = Estimate.objects.get(title="AC tune-up")
    assert response.status_code == 302 and response["Location"] == f"/estimates/{estimate.pk}/"
    assert [o.name for o in estimate.options.all()] == ["Good", "Better", "Best"]
    refused = client.post("/estimates/new/", {"customer": customer.pk, "title": " ", "options": "1"})
    assert refused.status_code == 400 and b"Give the estimate a title" in refused.content


def test_lines_are_added_from_the_pricebook_and_refused_lines_keep_what_was_typed(
    client_for, office, estimate
):
    client = client_for(office)
    good = estimate.options.get(name="Good")
    item = water_heater_item()
    response = client.post(
        f"/estimates/{estimate.pk}/options/{good.pk}/lines/", {"item": item.pk, "name": "", "quantity": "2"}
    )
    assert response.status_code == 302
    assert good.lines.filter(item=item).count() == 2 or good.lines.filter(quantity=2).exists()
    refused = client.post(
        f"/estimates/{estimate.pk}/options/{good.pk}/lines/",
        {"name": "Shut-off valve", "quantity": "1", "unit_price": "12.345"},
    )
    assert refused.status_code == 400
    assert b"more than 2 decimal places" in refused.content and b'value="Shut-off valve"' in refused.content
    assert not EstimateLine.objects.filter(name="Shut-off valve").exists()


def test_a_line_is_edited_and_removed(client_for, office, estimate):
    client = client_for(office)
    line = estimate.options.get(name="Better").lines.get(name="Haul away")
    client.post(
        f"/estimates/{estimate.pk}/lines/{line.pk}/",
        {
            "name": "Haul away and recycle",
            "quantity": "1",
            "unit_price": "95",
            "discount": "0",
            "taxable_shown": "1",
        },
    )
    line.refresh_from_db()
    assert (line.name, line.unit_price, line.taxable) == ("Haul away and recycle", Decimal("95.00"), False)
    client.post(f"/estimates/{estimate.pk}/lines/{line.pk}/", {"remove": "1"})
    assert not EstimateLine.objects.filter(pk=line.pk).exists()


def test_sending_from_the_page(client_for, office, estimate, django_capture_on_commit_callbacks):
    client = client_for(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/estimates/{estimate.pk}/send/", {"sms": "on", "email": "on"})
    assert response.status_code == 302
    page = client.get(f"/estimates/{estimate.pk}/")
    assert b"Sent" in page.content and estimate.public_token.encode() in page.content
    again = client.post(f"/estimates/{estimate.pk}/send/", {"sms": "on"})
    assert again.status_code == 400 and b"cannot be changed" in again.content


def test_the_technician_on_the_job_presents_it_and_the_customer_signs(
    client_for, office, tech, visit, customer
):
    estimate = good_better_best(customer=visit.job.customer, actor=office, job=visit.job)
    client = client_for(tech)
    assert client.get(f"/estimates/{estimate.pk}/").status_code == 200
    page = client.get(f"/estimates/{estimate.pk}/present/")
    assert page.status_code == 200 and b"Accept and sign" in page.content
    best = estimate.options.get(name="Best")
    refused = client.post(f"/estimates/{estimate.pk}/present/", {"option": best.pk, "signer_name": "Ana"})
    assert refused.status_code == 400 and b"Sign in the box" in refused.content
    done = client.post(
        f"/estimates/{estimate.pk}/present/",
        {"option": best.pk, "signer_name": "Ana Ruiz", "signature": signature_data_url()},
    )
    assert done.status_code == 302
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.ACCEPTED and estimate.accepted_in_person
    assert estimate.job.invoices.get().lines.get().name == "Tankless, 10-year labour warranty"


def test_the_summary_counts_each_estimate_once(client_for, office, estimate):
    page = client_for(office).get("/estimates/")
    assert b"1 draft" in page.content  # three options do not make three estimates

"""The office's invoice pages: roles, the draft editor, issuing, payments and refusals on the page."""

from decimal import Decimal

import pytest

from fsm.invoices.models import Invoice, Payment
from tests.factories import make_customer

from .estimate_helpers import austin_tax, issued_invoice


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])


def test_only_owner_and_office_see_invoices(client_for, owner, office, dispatcher, technician, customer):
    invoice = issued_invoice(customer=customer, actor=office)
    for user in (owner, office):
        assert invoice.number.encode() in client_for(user).get("/invoices/").content
        assert client_for(user).get(f"/invoices/{invoice.pk}/").status_code == 200
    for user in (dispatcher, technician):
        assert client_for(user).get("/invoices/").status_code == 403
        assert client_for(user).get(f"/invoices/{invoice.pk}/").status_code == 403


def test_draft_lines_issue_and_pay_through_the_pages(client_for, office, customer):
    client = client_for(office)
    response = client.post("/invoices/new/", {"customer": customer.pk})
    invoice = Invoice.objects.get()
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    client.post(
        f"/invoices/{invoice.pk}/lines/", {"name": "Drain cleaning", "quantity": "1", "unit_price": "240"}
    )
    refused = client.post(
        f"/invoices/{invoice.pk}/lines/", {"name": "Camera", "quantity": "0", "unit_price": "99"}
    )
    assert (
        refused.status_code == 400
        and b"more than zero" in refused.content
        and b'value="Camera"' in refused.content
    )
    client.post(f"/invoices/{invoice.pk}/issue/", {})
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED and invoice.total == Decimal("259.80")
    too_much = client.post(f"/invoices/{invoice.pk}/payments/", {"method": "cash", "amount": "300"})
    assert too_much.status_code == 400 and b"more than the balance" in too_much.content
    client.post(
        f"/invoices/{invoice.pk}/payments/", {"method": "check", "amount": "259.80", "reference": "2211"}
    )
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID and Payment.objects.get().reference == "2211"
    page = client.get(f"/invoices/{invoice.pk}/")
    assert b"Check" in page.content and b"Give money back" in page.content


def test_the_unpaid_list_shows_days_overdue(client_for, office, customer):
    from datetime import timedelta

    from django.utils import timezone

    from users.models import Business

    invoice = issued_invoice(customer=customer, actor=office)
    today = timezone.localdate(timezone.now(), Business.current().tzinfo)  # the business's day, not UTC's
    Invoice.objects.filter(pk=invoice.pk).update(due_on=today - timedelta(days=12))
    page = client_for(office).get("/invoices/?unpaid=on")
    assert b"12 days overdue" in page.content and b"1 overdue" in page.content


def test_the_public_invoice_page(client, customer, office):
    invoice = issued_invoice(customer=customer, actor=office)
    page = client.get(f"/i/{invoice.public_token}/")
    assert (
        page.status_code == 200 and b"$541.25" in page.content and page["X-Robots-Tag"].startswith("noindex")
    )
    invoice.refresh_from_db()
    wrong_last = "y" if invoice.public_token.endswith("x") else "x"
    assert client.get(f"/i/{invoice.public_token[:-1]}{wrong_last}/").status_code == 404


def test_the_technician_invoices_and_collects_cash_in_three_taps(client_for, office, tech, visit):
    austin_tax()
    client = client_for(tech)
    job = visit.job
    assert b"Invoice and collect" in client.get(f"/my-day/jobs/{job.pk}/").content
    page = client.get(f"/my-day/jobs/{job.pk}/collect/")
    assert page.status_code == 200 and b"Nothing on the invoice yet" in page.content
    client.post(f"/my-day/jobs/{job.pk}/collect/lines/", {"name": "Capacitor replaced", "unit_price": "185"})
    invoice = job.invoices.get()
    assert invoice.lines.get().origin == "onsite"
    client.post(f"/my-day/jobs/{job.pk}/collect/issue/")  # tap 2
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED and invoice.total == Decimal("200.26")
    refused = client.post(f"/my-day/jobs/{job.pk}/collect/pay/", {"method": "check", "amount": "200.26"})
    assert refused.status_code == 400 and b"check number" in refused.content
    client.post(f"/my-day/jobs/{job.pk}/collect/pay/", {"method": "cash", "amount": "200.26"})  # tap 3
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    assert b"Paid in full" in client.get(f"/my-day/jobs/{job.pk}/collect/").content


def test_a_technician_cannot_collect_on_another_job(client_for, office, other_tech, visit):
    client = client_for(other_tech)
    assert client.get(f"/my-day/jobs/{visit.job.pk}/collect/").status_code == 404
    response = client.post(f"/my-day/jobs/{visit.job.pk}/collect/lines/", {"name": "x", "unit_price": "1"})
    assert response.status_code == 404 and not Invoice.objects.exists()


def test_the_payments_list_filters_and_totals(client_for, office, dispatcher, customer):
    invoice = issued_invoice(customer=customer, actor=office)
    from fsm.invoices import services as invoice_services

    invoice_services.payment_record(
        invoice=invoice, actor=office, method="check", amount="100", reference="7781"
    )
    invoice_services.payment_record(invoice=invoice, actor=office, method="cash", amount="50")
    client = client_for(office)
    page = client.get("/payments/")
    assert b"$150.00" in page.content and b"7781" in page.content
    checks = client.get("/payments/?method=check")
    assert b"Check: $100.00 (1)" in checks.content and b"Cash:" not in checks.content
    assert client.get("/payments/?q=7781").content.count(b"7781") >= 1
    assert client_for(dispatcher).get("/payments/").status_code == 403

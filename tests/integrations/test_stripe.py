"""Online card payment through the real `stripe` SDK, against a local stand-in for Stripe: the Pay button,
the Checkout Session for the balance, and the signed webhook that alone records the payment (once)."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from events.models import Event
from fsm.invoices import services as invoices
from fsm.invoices.models import CustomerCredit, Invoice, Payment
from integrations.models import StripeEvent
from integrations.payments.services import NOT_APPLIED
from tests.concurrency import at_once
from tests.factories import make_customer
from tests.fsm.estimate_helpers import austin_tax, issued_invoice

from .stripe_standin import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, StripeStandIn, sign

WEBHOOK = "/integrations/stripe/webhook/"


@pytest.fixture
def stripe_standin(settings):
    standin = StripeStandIn().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_CHECKOUT_ORIGIN = standin.url
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    yield standin
    standin.stop()


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])


@pytest.fixture
def invoice(customer, office):
    return issued_invoice(customer=customer, actor=office, amount="500.00")  # 541.25 with 8.25 % tax


def page_url(invoice: Invoice) -> str:
    return reverse("invoice-public", args=[invoice.public_token])


def pay_url(invoice: Invoice) -> str:
    return reverse("stripe:pay", args=[invoice.public_token])


def start_checkout(client, invoice: Invoice, standin: StripeStandIn) -> dict:
    response = client.post(pay_url(invoice))
    assert response.status_code == 303
    session = standin.sessions[response["Location"].rsplit("/", 1)[-1]]
    assert response["Location"] == session["url"]
    return session


def post_event(client, event: dict, *, secret: str = WEBHOOK_SECRET, header: str | None = None):
    payload = json.dumps(event)
    headers = {} if header == "" else {"Stripe-Signature": header or sign(payload, secret)}
    return client.post(WEBHOOK, data=payload, content_type="application/json", headers=headers)


def paid(client, invoice, standin, **event_options):
    session = start_checkout(client, invoice, standin)
    event = standin.completed_event(session["id"], **event_options)
    return session, event, post_event(client, event)


# --- The Pay button --------------------------------------------------------------------------------------


def test_without_keys_the_invoice_page_has_no_pay_button_and_pay_is_404(client, invoice, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = client.get(page_url(invoice))
    assert page.status_code == 200 and b"Pay $541.25 now" not in page.content
    assert pay_url(invoice).encode() not in page.content
    directives = dict(
        d.strip().split(" ", 1) for d in page["Content-Security-Policy"].split(";") if d.strip()
    )
    assert directives["form-action"] == "'self'"  # no checkout origin added
    assert client.post(pay_url(invoice)).status_code == 404


def test_without_the_webhook_secret_there_is_no_pay_button(client, invoice, stripe_standin, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""  # a payment could be taken and never recorded
    assert b"Pay $541.25 now" not in client.get(page_url(invoice)).content
    assert client.post(pay_url(invoice)).status_code == 404 and stripe_standin.creates() == []


def test_with_keys_the_invoice_page_offers_to_pay_the_balance(client, invoice, stripe_standin):
    page = client.get(page_url(invoice))
    assert b"Pay $541.25 now" in page.content
    assert f'action="{pay_url(invoice)}"'.encode() in page.content
    assert stripe_standin.requests == []  # showing the page never calls Stripe
    assert f"form-action 'self' {stripe_standin.url}" in page["Content-Security-Policy"]


def test_a_paid_invoice_has_no_pay_button(client, invoice, office, stripe_standin):
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount=invoice.balance)
    assert b"now</button>" not in client.get(page_url(invoice)).content


def test_pay_makes_a_checkout_session_for_the_balance_in_cents(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    form = stripe_standin.creates()[0]["form"]
    item = form["line_items"]["0"]
    assert item["price_data"] == {
        "currency": "usd",
        "unit_amount": "54125",
        "product_data": {"name": f"Invoice {invoice.number}"},
    }
    assert item["quantity"] == "1" and form["mode"] == "payment"
    assert form["client_reference_id"] == str(invoice.pk)
    assert form["metadata"] == {"invoice_id": str(invoice.pk), "invoice_token": invoice.public_token}
    page = f"https://crm.example.com{page_url(invoice)}"
    assert form["success_url"] == page + "?paid=1&session={CHECKOUT_SESSION_ID}"
    assert form["cancel_url"] == page + "?canceled=1"
    assert form["customer_email"] == "ana@example.org"
    assert session["amount_total"] == 54125
    assert stripe_standin.creates()[0]["headers"]["idempotency-key"].startswith(f"invoice-{invoice.pk}-")


def test_a_double_tap_on_pay_gets_the_same_session(client, invoice, stripe_standin):
    first = client.post(pay_url(invoice))["Location"]
    assert client.post(pay_url(invoice))["Location"] == first
    assert len(stripe_standin.sessions) == 1


def test_pay_needs_the_links_token_not_a_csrf_cookie(invoice, stripe_standin):
    """The invoice page sends Referrer-Policy: no-referrer, so browsers post its Pay form with
    "Origin: null": the token in the URL is the capability, as for the estimate's accept."""
    response = Client(enforce_csrf_checks=True).post(pay_url(invoice), HTTP_ORIGIN="null")
    assert response.status_code == 303 and len(stripe_standin.creates()) == 1


def test_pay_on_a_wrong_token_is_404(client, invoice, stripe_standin):
    assert client.post(reverse("stripe:pay", args=["x" * 40])).status_code == 404


def test_when_stripe_fails_the_customer_is_sent_back_with_a_message(client, invoice, stripe_standin):
    stripe_standin.fail_next(3)  # the SDK's retries fail too
    response = client.post(pay_url(invoice))
    assert response.status_code == 303 and response["Location"].endswith("?pay_error=1")
    page = client.get(response["Location"])
    assert b"could not open the card payment page" in page.content
    assert Payment.objects.count() == 0


# --- The webhook -----------------------------------------------------------------------------------------


def test_a_signed_webhook_pays_the_invoice_once(client, invoice, stripe_standin):
    session, event, response = paid(client, invoice, stripe_standin)
    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event["id"], "outcome": "recorded"}
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID and invoice.balance == Decimal("0.00")
    payment = Payment.objects.get()
    assert payment.method == Payment.Method.ONLINE and payment.amount == Decimal("541.25")
    assert payment.stripe_session_id == session["id"]
    assert payment.reference == event["data"]["object"]["payment_intent"]
    assert payment.recorded_by is None
    assert Event.objects.filter(milestone="payment.received").count() == 1
    assert Event.objects.filter(milestone="invoice.paid").count() == 1


def test_the_same_webhook_replayed_changes_nothing(client, invoice, stripe_standin):
    _, event, _ = paid(client, invoice, stripe_standin)
    again = post_event(client, event)
    assert again.status_code == 200 and again.json()["outcome"] == "recorded"
    assert Payment.objects.count() == 1
    assert Event.objects.filter(milestone="payment.received").count() == 1
    assert StripeEvent.objects.count() == 1


def test_the_same_session_under_another_event_id_pays_once(client, invoice, stripe_standin):
    session, _, _ = paid(client, invoice, stripe_standin)
    other = stripe_standin.completed_event(
        session["id"], event_type="checkout.session.async_payment_succeeded"
    )
    assert post_event(client, other).json()["outcome"] == "already"
    assert Payment.objects.count() == 1
    assert Event.objects.filter(milestone="payment.received").count() == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    response = post_event(client, stripe_standin.completed_event(session["id"]), secret="whsec_someone_else")
    assert response.status_code == 400 and "Stripe-Signature" in response.json()["error"]
    assert Payment.objects.count() == 0 and StripeEvent.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED


def test_a_missing_signature_is_refused(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    response = post_event(client, stripe_standin.completed_event(session["id"]), header="")
    assert response.status_code == 400
    assert response.json() == {"error": "The Stripe-Signature header is missing."}
    assert Payment.objects.count() == 0 and StripeEvent.objects.count() == 0


def test_a_tampered_body_is_refused(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    event = stripe_standin.completed_event(session["id"])
    header = sign(json.dumps(event))
    event["data"]["object"]["amount_total"] = 100
    assert post_event(client, event, header=header).status_code == 400
    assert Payment.objects.count() == 0


def test_an_old_signature_is_refused(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    event = stripe_standin.completed_event(session["id"])
    stale = sign(json.dumps(event), timestamp=int(event["created"]) - 3600)
    assert post_event(client, event, header=stale).status_code == 400
    assert Payment.objects.count() == 0


def test_without_a_webhook_secret_every_webhook_is_refused(client, invoice, stripe_standin, settings):
    session = start_checkout(client, invoice, stripe_standin)
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_event(client, stripe_standin.completed_event(session["id"])).status_code == 400
    assert Payment.objects.count() == 0


def test_the_webhook_takes_post_only_and_needs_no_csrf_token(invoice, stripe_standin):
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(WEBHOOK).status_code == 405
    response = browser.post(WEBHOOK, data="{}", content_type="application/json")
    assert response.status_code == 400  # refused for its signature, not for CSRF


# --- Amounts and states ----------------------------------------------------------------------------------


def test_a_partly_paid_invoice_is_offered_and_charged_its_balance(client, invoice, office, stripe_standin):
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="200.00")
    assert b"Pay $341.25 now" in client.get(page_url(invoice)).content
    session, _, response = paid(client, invoice, stripe_standin)
    assert session["amount_total"] == 34125 and response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID and invoice.amount_paid == invoice.total
    assert [p.method for p in invoice.payments.order_by("pk")] == ["cash", "online"]


def test_a_partial_online_payment_leaves_the_rest_due(client, invoice, stripe_standin):
    _, _, response = paid(client, invoice, stripe_standin, amount_total=20000)
    assert response.json()["outcome"] == "recorded"
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID and invoice.balance == Decimal("341.25")
    assert b"Pay $341.25 now" in client.get(page_url(invoice)).content


def test_cash_taken_while_the_customer_paid_online_leaves_the_rest_as_credit(
    client, invoice, office, customer, stripe_standin
):
    session = start_checkout(client, invoice, stripe_standin)  # for 541.25
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="200.00")
    post_event(client, stripe_standin.completed_event(session["id"]))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    assert invoices.credit_balance(customer) == Decimal("200.00")


def test_an_invoice_paid_in_full_meanwhile_keeps_the_online_payment_as_credit(
    client, invoice, office, customer, stripe_standin
):
    session = start_checkout(client, invoice, stripe_standin)
    invoices.payment_record(
        invoice=invoice, actor=office, method="check", amount=invoice.balance, reference="1042"
    )
    response = post_event(client, stripe_standin.completed_event(session["id"]))
    assert response.json()["outcome"] == "recorded"
    online = Payment.objects.get(method="online")
    assert online.amount == Decimal("541.25") and online.applied == Decimal("0.00")
    assert CustomerCredit.objects.get(payment=online).amount == Decimal("541.25")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID and invoice.amount_paid == invoice.total
    assert Event.objects.filter(milestone="invoice.paid").count() == 1


def test_a_payment_for_a_void_invoice_is_not_recorded_and_the_office_is_told(
    client, invoice, office, customer, stripe_standin
):
    session = start_checkout(client, invoice, stripe_standin)
    invoices.invoice_void(invoice=invoice, actor=office, reason="Billed the wrong customer")
    event = stripe_standin.completed_event(session["id"])
    response = post_event(client, event)
    assert response.status_code == 200 and response.json()["outcome"] == "refused"
    assert Payment.objects.count() == 0 and CustomerCredit.objects.count() == 0
    note = Event.objects.get(code=NOT_APPLIED)
    assert "$541.25" in note.summary and "void" in note.summary and "Refund it in Stripe" in note.summary
    assert note.data["stripe_session_id"] == session["id"]
    assert note.links.filter(target_id=str(customer.pk)).exists()
    assert post_event(client, event).status_code == 200  # Stripe's retry: still nothing, no second note
    assert Event.objects.filter(code=NOT_APPLIED).count() == 1


def test_a_session_that_is_not_ours_is_ignored(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    event = stripe_standin.completed_event(session["id"])
    event["data"]["object"]["metadata"] = {"order": "shop-123"}
    assert post_event(client, event).json()["outcome"] == "ignored"
    assert Payment.objects.count() == 0


def test_an_unpaid_completed_session_records_nothing(client, invoice, stripe_standin):
    session = start_checkout(client, invoice, stripe_standin)
    event = stripe_standin.completed_event(session["id"])
    event["data"]["object"]["payment_status"] = "unpaid"  # a delayed method: paid later, another event
    assert post_event(client, event).json()["outcome"] == "ignored"
    assert Payment.objects.count() == 0


def test_other_event_types_are_acknowledged_and_ignored(client, invoice, stripe_standin):
    event = {"id": "evt_test_other", "object": "event", "type": "charge.refunded", "created": 1}
    event["data"] = {"object": {"id": "ch_1", "object": "charge"}}
    assert post_event(client, event).json()["outcome"] == "ignored"


# --- Coming back from the card page ----------------------------------------------------------------------


def test_coming_back_says_the_payment_is_being_confirmed_until_the_webhook_lands(
    client, invoice, stripe_standin
):
    session = start_checkout(client, invoice, stripe_standin)
    back = f"{page_url(invoice)}?paid=1&session={session['id']}"
    page = client.get(back)
    assert b"your payment is being confirmed" in page.content
    assert b"Pay $541.25 now" not in page.content and b'http-equiv="refresh"' in page.content
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED and Payment.objects.count() == 0
    post_event(client, stripe_standin.completed_event(session["id"]))
    page = client.get(back)
    assert b"we received your payment of $541.25" in page.content and b"Paid in full" in page.content
    assert b'http-equiv="refresh"' not in page.content


def test_coming_back_canceled_offers_the_button_again(client, invoice, stripe_standin):
    page = client.get(f"{page_url(invoice)}?canceled=1")
    assert b"nothing was charged" in page.content and b"Pay $541.25 now" in page.content


# --- Deliveries at the same moment (PostgreSQL) ----------------------------------------------------------


def deliver_at_once(events: list[dict]) -> list[int]:
    """Each event posted by its own thread (its own connection), all released together."""
    return at_once([lambda event=event: post_event(Client(), event).status_code for event in events])


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_four_times_at_once_pays_once(require_postgres, invoice, stripe_standin):
    session = start_checkout(Client(), invoice, stripe_standin)
    event = stripe_standin.completed_event(session["id"])
    assert deliver_at_once([event] * 4) == [200] * 4
    assert Payment.objects.count() == 1 and StripeEvent.objects.count() == 1
    assert Event.objects.filter(milestone="payment.received").count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_session_under_four_event_ids_at_once_pays_once(require_postgres, invoice, stripe_standin):
    session = start_checkout(Client(), invoice, stripe_standin)
    events = [stripe_standin.completed_event(session["id"]) for _ in range(4)]
    assert deliver_at_once(events) == [200] * 4
    assert Payment.objects.count() == 1 and StripeEvent.objects.count() == 4
    assert sorted(StripeEvent.objects.values_list("outcome", flat=True)) == ["already"] * 3 + ["recorded"]

"""The customer pays an invoice by card in Chromium: the invoice link, Pay, the (stand-in) Stripe page,
back to "being confirmed"; the signed webhook lands and the page shows the invoice paid."""

import json

import pytest
from playwright.sync_api import expect

from fsm.invoices.models import Invoice, Payment
from tests.e2e.conftest import screenshot
from tests.factories import make_customer
from tests.fsm.estimate_helpers import issued_invoice
from tests.integrations.stripe_standin import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, StripeStandIn, sign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe_standin(settings, live_server):
    standin = StripeStandIn().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_CHECKOUT_ORIGIN = standin.url
    settings.PUBLIC_BASE_URL = live_server.url  # where Stripe sends the customer back
    yield standin
    standin.stop()


def post_webhook(page, live_server, event: dict) -> int:
    """Stripe's delivery: a signed POST from outside the browser's page (its own request context)."""
    payload = json.dumps(event)
    response = page.context.request.post(
        f"{live_server.url}/integrations/stripe/webhook/",
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
    )
    return response.status


def test_the_customer_pays_by_card_and_the_page_shows_paid_once_the_webhook_lands(
    phone_page, live_server, e2e_business, office, stripe_standin
):
    customer = make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])
    invoice = issued_invoice(customer=customer, actor=office, amount="500.00")
    page = phone_page
    page.goto(f"{live_server.url}/i/{invoice.public_token}/")
    pay = page.get_by_role("button", name="Pay $500.00 now")
    expect(pay).to_be_visible()
    screenshot(page, "invoice-pay-button")
    pay.click()

    page.wait_for_url(f"{stripe_standin.url}/checkout/cs_test_*")
    expect(page.locator("#amount")).to_have_text("$500.00")
    expect(page.locator("#what")).to_contain_text(f"Invoice {invoice.number}")
    session_id = page.url.rsplit("/", 1)[-1]
    page.locator("#pay").click()

    page.wait_for_url(f"{live_server.url}/i/{invoice.public_token}/?paid=1&session={session_id}")
    expect(page.get_by_text("your payment is being confirmed")).to_be_visible()
    expect(pay).to_have_count(0)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED  # the redirect paid nothing

    assert post_webhook(page, live_server, stripe_standin.completed_event(session_id)) == 200
    expect(page.get_by_text("Paid in full")).to_be_visible(timeout=15_000)  # the page refreshes itself
    expect(page.get_by_text("we received your payment of $500.00")).to_be_visible()
    screenshot(page, "invoice-paid-online")
    assert Payment.objects.get().method == Payment.Method.ONLINE

"""A message is one row on a timeline and in the owner's activity list: its state beside it, the number
written nationally, the text cut at a word with the whole text one click away."""

import pytest
from django.urls import reverse

from messaging import services as messaging
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

LONG = (
    "Hi Ana, your technician Marco is arriving between 11:30 AM and 1:30 PM today. He will call ahead "
    "when he is twenty minutes out, and he will bring the replacement parts."
)


@pytest.fixture
def sent(business, office, django_capture_on_commit_callbacks):
    ana = make_customer(first_name="Ana", last_name="Ruiz", phones=["+15125550199"])
    with django_capture_on_commit_callbacks(execute=True):  # the console transport sends after commit
        message = messaging.message_queue(to="+15125550199", body=LONG, customer=ana, actor=office)
    message.refresh_from_db()
    assert message.status == "sent"
    return message


def test_the_customers_timeline_shows_a_sent_text_once_with_its_state(sent, office, client_for):
    page = client_for(office).get(reverse("customers:detail", args=[sent.customer_id])).content.decode()

    assert page.count("Text to (512) 555-0199") == 1
    assert "Text sent to" not in page and "Text to +1" not in page
    assert '<span class="badge badge-ok">Sent</span>' in page
    assert "arriving between 11:30 AM and 1:30 PM today. He will call ahead when he is …</summary>" in page
    assert "1:30 P</" not in page  # never cut mid-word
    assert LONG in page  # the whole text, one click away (a <details>)


def test_a_failed_text_shows_failed_and_the_reason(sent, office, client_for):
    type(sent).objects.filter(pk=sent.pk).update(status="failed", error_message="Twilio error 30003")

    page = client_for(office).get(reverse("customers:detail", args=[sent.customer_id])).content.decode()

    assert '<span class="badge badge-bad" title="Twilio error 30003">Failed</span>' in page


def test_the_owners_activity_list_shows_the_text_once(sent, owner, client_for):
    page = client_for(owner).get(reverse("dashboard")).content.decode()

    assert page.count("Text to (512) 555-0199") == 1
    assert "Text sent to" not in page

"""POST /integrations/twilio/status/: delivery receipts update the outbox; some errors change consent."""

import pytest

from customers.models import ConsentEvent, PhoneNumber
from customers.services import consent_check
from messaging.models import Message
from messaging.services import message_queue
from tests.factories import make_customer

from .helpers import CALLER

URL = "/integrations/twilio/status/"


@pytest.fixture
def sent(rules, office) -> Message:
    """A care text to a customer, handed to Twilio as SM500."""
    make_customer(actor=office, phones=[CALLER])
    message = message_queue(to=CALLER, body="See you at 9", purpose="care")
    Message.objects.filter(pk=message.pk).update(provider_sid="SM500", status=Message.Status.SENT)
    return message


def _receipt(twilio_post, status: str, **extra):
    response = twilio_post(URL, {"MessageSid": "SM500", "MessageStatus": status, **extra})
    assert response.status_code == 200
    return response


def test_delivered_marks_the_message_delivered(twilio_post, sent):
    _receipt(twilio_post, "delivered")

    sent.refresh_from_db()
    assert sent.status == Message.Status.DELIVERED
    assert sent.delivered_at is not None


def test_a_repeated_receipt_changes_nothing(twilio_post, sent):
    _receipt(twilio_post, "delivered")
    delivered_at = Message.objects.get(pk=sent.pk).delivered_at
    _receipt(twilio_post, "delivered")

    assert Message.objects.get(pk=sent.pk).delivered_at == delivered_at


def test_a_late_sent_never_undoes_delivered(twilio_post, sent):
    _receipt(twilio_post, "delivered")
    _receipt(twilio_post, "sent")

    assert Message.objects.get(pk=sent.pk).status == Message.Status.DELIVERED


def test_error_21610_opts_the_number_out(twilio_post, sent):
    _receipt(twilio_post, "undelivered", ErrorCode="21610")
    _receipt(twilio_post, "undelivered", ErrorCode="21610")

    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == ("undelivered", "21610")
    event = ConsentEvent.objects.get()
    assert (event.state, event.method) == ("opted_out", "carrier")
    assert consent_check(number=CALLER, purpose="care") == "opted out"


@pytest.mark.parametrize("code", ["30006", "21614"])
def test_a_landline_error_marks_the_number_not_textable(twilio_post, sent, code):
    _receipt(twilio_post, "failed", ErrorCode=code)

    event = ConsentEvent.objects.get()
    assert (event.state, event.method) == ("not_textable", "provider")
    assert PhoneNumber.objects.get(number=CALLER).textable is False


def test_an_unknown_sid_is_accepted_and_changes_nothing(twilio_post, rules):
    response = twilio_post(URL, {"MessageSid": "SM404", "MessageStatus": "delivered"})

    assert response.status_code == 200
    assert not Message.objects.exists()

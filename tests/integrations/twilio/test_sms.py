"""POST /integrations/twilio/sms/: an inbound text is stored once, on a lead when the number is new."""

from crm.models import Lead, Source
from events.models import Event
from messaging.models import Message
from tests.factories import make_customer

from .helpers import BUSINESS_NUMBER, CALLER, sms_params

URL = "/integrations/twilio/sms/"


def _inbound():
    return Message.objects.filter(direction=Message.Direction.INBOUND)


def test_a_text_from_an_unknown_number_creates_the_message_and_a_text_lead(
    twilio_post, rules, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = twilio_post(URL, sms_params("My water heater is leaking", "SM100"))

    assert response.status_code == 200
    assert response.content.decode().endswith("<Response />")
    message, lead = _inbound().get(), Lead.objects.get()
    assert (message.from_number, message.to_number, message.provider_sid) == (
        CALLER,
        BUSINESS_NUMBER,
        "SM100",
    )
    assert (message.customer, message.lead, message.status) == (lead.customer, lead, "received")
    assert message.conversation.customer == lead.customer
    assert (lead.source.kind, lead.message, lead.external_id) == (Source.Kind.SMS, message.body, "SM100")


def test_message_received_is_published_once(twilio_post, rules):
    twilio_post(URL, sms_params("Hello"))

    event = Event.objects.get(milestone="message.received")
    message = _inbound().get()
    assert event.data["message_id"] == message.pk
    assert event.data["from"] == CALLER
    assert event.data["customer_id"] == message.customer_id


def test_a_retried_webhook_stores_nothing_new_and_sends_nothing(twilio_post, rules):
    twilio_post(URL, sms_params("STOP", "SM200"))
    twilio_post(URL, sms_params("STOP", "SM200"))

    assert _inbound().count() == 1
    assert Lead.objects.count() == 0  # a bare keyword is not a lead
    assert Event.objects.filter(milestone="message.received").count() == 1
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_a_text_from_a_customer_lands_on_their_conversation_without_a_lead(twilio_post, rules, office):
    customer = make_customer(actor=office, phones=[CALLER])

    twilio_post(URL, sms_params("Running late?"))

    assert _inbound().get().customer == customer
    assert not Lead.objects.exists()


def test_mms_media_urls_are_kept(twilio_post, rules):
    media = ["https://api.twilio.com/media/ME1", "https://api.twilio.com/media/ME2"]
    params = sms_params("photo of the leak", NumMedia="2", MediaUrl0=media[0], MediaUrl1=media[1])

    twilio_post(URL, params)

    assert _inbound().get().media_urls == media


def test_a_text_from_a_short_code_is_stored_without_a_lead(twilio_post, rules):
    response = twilio_post(URL, sms_params("Your code is 1234", From="12345"))

    assert response.status_code == 200
    assert _inbound().get().lead is None
    assert not Lead.objects.exists()

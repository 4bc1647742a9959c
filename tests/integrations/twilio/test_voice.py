"""POST /integrations/twilio/voice/: an inbound call is stored once, on a lead or a customer, and rings
the team's phones."""

from xml.etree import ElementTree

from crm.models import Lead, Source
from events.models import Event
from messaging.models import Call
from tests.factories import make_customer

from .helpers import BASE_URL, CALLER, call_params

URL = "/integrations/twilio/voice/"
STATUS_URL = f"{BASE_URL}/integrations/twilio/voice/status/"


def _twiml(response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own TwiML, not untrusted input


def test_a_call_from_an_unknown_number_is_stored_on_a_new_phone_lead(twilio_post, rules):
    response = twilio_post(URL, call_params("CA100"))

    assert response.status_code == 200
    call = Call.objects.get()
    lead = Lead.objects.get()
    assert (call.call_sid, call.from_number, call.lead, call.customer) == (
        "CA100",
        CALLER,
        lead,
        lead.customer,
    )
    assert lead.source.kind == Source.Kind.PHONE
    assert lead.external_id == "CA100"


def test_the_call_rings_through_to_the_team_with_the_status_url_as_action(twilio_post, rules):
    response = twilio_post(URL, call_params())

    assert response["Content-Type"].startswith("text/xml")
    dial = _twiml(response).find("Dial")
    assert dial.get("timeout") == "15"
    assert dial.get("action") == STATUS_URL
    assert [n.text for n in dial.findall("Number")] == ["+15125550198", "+15125550199"]


def test_without_ring_through_numbers_the_caller_leaves_a_voicemail(twilio_post, rules):
    rules.ring_through_numbers = []
    rules.save()

    root = _twiml(twilio_post(URL, call_params()))

    assert root.find("Dial") is None
    assert "Test Plumbing Co" in root.find("Say").text
    assert root.find("Record").get("action") == STATUS_URL


def test_a_retried_webhook_stores_one_call_and_answers_the_same(twilio_post, rules):
    first = twilio_post(URL, call_params("CA200"))
    second = twilio_post(URL, call_params("CA200"))

    assert first.content == second.content
    assert Call.objects.count() == 1
    assert Lead.objects.count() == 1


def test_a_call_from_a_customer_lands_on_that_customer_without_a_lead(twilio_post, rules, office):
    customer = make_customer(actor=office, phones=["(512) 555-0142"])

    twilio_post(URL, call_params())

    call = Call.objects.get()
    assert call.customer == customer
    assert call.lead is None
    assert not Lead.objects.exists()


def test_the_call_is_on_the_customers_timeline(twilio_post, rules):
    twilio_post(URL, call_params())

    call = Call.objects.get()
    event = Event.objects.get(code="crm.call.received")
    targets = set(event.links.values_list("target_id", flat=True))
    assert {str(call.pk), str(call.customer_id), str(call.lead_id)} <= targets


def test_a_hidden_caller_id_is_stored_without_a_lead(twilio_post, rules):
    response = twilio_post(URL, call_params(From="+266696687"))

    assert response.status_code == 200
    assert Call.objects.get().lead is None

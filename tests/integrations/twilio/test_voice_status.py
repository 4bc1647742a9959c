"""POST /integrations/twilio/voice/status/: a missed call is marked once and texted back once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import ConsentEvent
from customers.services import consent_record
from events.models import Event
from messaging.models import Call, Message

from .helpers import CALLER, call_params

VOICE = "/integrations/twilio/voice/"
STATUS = "/integrations/twilio/voice/status/"


@pytest.fixture
def ring(twilio_post, rules, django_capture_on_commit_callbacks):
    """An inbound call, then its Dial action with `status`; returns the Call."""

    def make(status: str, sid: str = "CA001", **extra) -> Call:
        twilio_post(VOICE, call_params(sid))
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio_post(
                STATUS, call_params(sid, CallStatus="in-progress", DialCallStatus=status, **extra)
            )
        assert response.status_code == 200
        assert response.content.decode().endswith("<Response />")
        return Call.objects.get(call_sid=sid)

    return make


def _text_backs():
    return Message.objects.filter(template="missed_call", direction=Message.Direction.OUTBOUND)


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_an_unanswered_call_is_missed_and_texted_back_once(ring, status):
    call = ring(status)

    text = _text_backs().get()
    assert call.missed and call.dial_status == status
    assert call.text_back == text
    assert (text.status, text.purpose, text.to_number) == (
        "sent",
        "automated",
        CALLER,
    )  # sent at once (console backend)
    assert "Test Plumbing Co" in text.body
    assert text.lead == call.lead and text.customer == call.customer


def test_a_missed_call_publishes_call_missed_once(ring, twilio_post):
    call = ring("no-answer")
    twilio_post(STATUS, call_params(DialCallStatus="no-answer"))

    event = Event.objects.get(milestone="call.missed")
    assert event.data == {"call_id": call.pk, "from": CALLER, "customer_id": call.customer_id}


def test_the_status_callback_delivered_twice_still_texts_once(ring, twilio_post):
    ring("no-answer")
    twilio_post(STATUS, call_params(DialCallStatus="no-answer"))
    twilio_post(STATUS, call_params(CallStatus="completed"))

    assert _text_backs().count() == 1


def test_a_second_missed_call_within_the_window_is_not_texted_again(ring):
    first = ring("no-answer", sid="CA001")
    second = ring("busy", sid="CA002")

    assert first.text_back is not None
    assert second.missed and second.text_back is None
    assert _text_backs().count() == 1


def test_a_missed_call_after_the_window_is_texted_again(ring, rules):
    ring("no-answer", sid="CA001")
    Message.objects.update(
        created_at=timezone.now() - timedelta(minutes=rules.missed_call_window_minutes + 1)
    )

    assert ring("no-answer", sid="CA002").text_back is not None
    assert _text_backs().count() == 2


def test_an_opted_out_caller_gets_no_text_back(twilio_post, ring):
    twilio_post(VOICE, call_params("CA001"))  # the caller becomes a customer with this number
    consent_record(number=CALLER, state=ConsentEvent.State.OPTED_OUT, method="keyword")

    call = ring("no-answer")

    assert call.missed and call.text_back is None
    assert not _text_backs().filter(status__in=["queued", "held"]).exists()


def test_the_text_back_can_be_turned_off(ring, rules):
    rules.missed_call_text_enabled = False
    rules.save()

    assert ring("no-answer").missed
    assert not _text_backs().exists()


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_an_answered_call_is_not_missed_and_sends_nothing(ring, status):
    call = ring(status)

    assert not call.missed
    assert not Message.objects.exists()
    assert not Event.objects.filter(milestone="call.missed").exists()


def test_a_voicemail_keeps_the_recording_on_the_call_and_the_timeline(twilio_post, rules):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    twilio_post(VOICE, call_params())
    twilio_post(STATUS, call_params(CallStatus="completed", RecordingUrl=url))

    call = Call.objects.get()
    assert call.recording_url == url
    assert call.missed
    event = Event.objects.get(code="crm.call.voicemail")
    assert event.data["recording_url"] == url
    assert str(call.customer_id) in set(event.links.values_list("target_id", flat=True))


def test_a_status_for_an_unknown_call_is_accepted_and_changes_nothing(twilio_post, rules):
    response = twilio_post(STATUS, call_params("CA999", DialCallStatus="no-answer"))

    assert response.status_code == 200
    assert not Call.objects.exists() and not Message.objects.exists()


def test_an_empty_text_back_template_still_marks_the_call_missed(ring, rules):
    rules.missed_call_template = "   "
    rules.save()

    call = ring("no-answer")

    assert call.missed and call.text_back is None
    assert not _text_backs().exists()

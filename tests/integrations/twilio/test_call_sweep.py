"""Work a webhook leaves to a worker is never lost: with the broker down when the call comes in, the
sweep identifies the caller and sends the missed-call text-back once the broker is back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import phone
from crm.models import Lead, Source
from crm.services import lead_capture_from_phone
from events import services as events_services
from messaging import calls as services
from messaging.models import Call, Message

from .helpers import CALLER, call_params

VOICE = "/integrations/twilio/voice/"
STATUS = "/integrations/twilio/voice/status/"


@pytest.fixture
def broker_down(monkeypatch):
    """Every enqueue fails the way a dead broker makes it fail (logged, not raised)."""

    def refuse(task_name, args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(events_services, "_run_eager", refuse)
    return monkeypatch


def _missed_call_with_broker_down(twilio_post, broker_down) -> Call:
    assert twilio_post(VOICE, call_params("CA900")).status_code == 200
    assert (
        twilio_post(
            STATUS, call_params("CA900", CallStatus="in-progress", DialCallStatus="no-answer")
        ).status_code
        == 200
    )
    broker_down.undo()  # the broker is back
    return Call.objects.get(call_sid="CA900")


def _text_backs():
    return Message.objects.filter(template="missed_call", to_number=CALLER)


def test_a_missed_call_during_a_broker_outage_is_texted_back_by_the_sweep_once(
    twilio_post, rules, broker_down
):
    call = _missed_call_with_broker_down(twilio_post, broker_down)
    assert call.missed and call.identified_at is None and call.text_back_decided_at is None
    assert not _text_backs().exists()

    assert phone.calls_sweep() == (0, 0)  # within the grace period: the queued tasks may still run
    later = timezone.now() + timedelta(minutes=1)
    assert phone.calls_sweep(now=later) == (1, 1)
    assert phone.calls_sweep(now=later) == (0, 0)  # done: nothing queued again

    call.refresh_from_db()
    text = _text_backs().get()
    assert text.status == "sent" and call.text_back == text and call.text_back_decided_at
    assert call.identified_at and call.lead == Lead.objects.get(phone=CALLER)


def test_the_sweep_leaves_a_day_old_call_alone(twilio_post, rules, broker_down):
    _missed_call_with_broker_down(twilio_post, broker_down)
    assert phone.calls_sweep(now=timezone.now() + timedelta(days=1, minutes=1)) == (0, 0)
    assert not _text_backs().exists()


def test_an_opted_out_caller_is_decided_once_and_not_swept_again(twilio_post, rules, broker_down):
    from customers.models import ConsentEvent
    from customers.services import consent_record

    consent_record(number=CALLER, state=ConsentEvent.State.OPTED_OUT, method=ConsentEvent.Method.KEYWORD)
    call = _missed_call_with_broker_down(twilio_post, broker_down)
    later = timezone.now() + timedelta(minutes=1)
    phone.calls_sweep(now=later)

    call.refresh_from_db()
    assert call.text_back is None and call.text_back_decided_at is not None
    assert phone.calls_sweep(now=later) == (0, 0)
    assert not _text_backs().exists()


def test_a_text_back_already_sent_is_never_replaced(twilio_post, rules):
    twilio_post(VOICE, call_params("CA901"))
    twilio_post(STATUS, call_params("CA901", CallStatus="in-progress", DialCallStatus="no-answer"))
    call = Call.objects.get(call_sid="CA901")
    Call.objects.filter(pk=call.pk).update(text_back_decided_at=None)  # as before the sweep existed

    services.call_text_back(call_id=call.pk)

    assert Call.objects.get(pk=call.pk).text_back == _text_backs().get()


def test_the_phone_source_is_made_once_even_when_an_inactive_one_holds_its_name(business):
    Source.objects.create(kind=Source.Kind.PHONE, name="Old line", slug="inbound-phone", is_active=False)

    lead = lead_capture_from_phone(phone=CALLER, kind=Source.Kind.PHONE, external_id="CA902").lead

    assert lead.source.slug == "inbound-phone" and Source.objects.filter(kind=Source.Kind.PHONE).count() == 1

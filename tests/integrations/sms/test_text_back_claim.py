"""The missed-call text-back is an outbox row committed already claimed (`sending`, one attempt, a lease)
by the worker that then sends it: whatever happens between that commit and Twilio's answer, the caller
gets one text, through the real Twilio SDK against the local fake Twilio."""

from datetime import time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from crm import phone
from events.models import Event
from messaging import calls as twilio_services
from messaging import outbox as sms_services
from messaging.models import Call, Message, MessagingSettings

pytestmark = pytest.mark.django_db

CALLER = "+15125550142"


@pytest.fixture
def missed_call(shop):
    rules = MessagingSettings.current()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
    rules.save()
    return Call.objects.create(call_sid="CA777", from_number=CALLER, to_number="+15125550100", missed=True)


def _claim_and_die(call: Call, *, lease_over: bool) -> Message:
    """What a text-back worker killed right after its commit leaves: the row, claimed, never sent."""
    lease = timezone.now() + (timedelta(seconds=-1) if lease_over else sms_services.SEND_LEASE)
    with transaction.atomic():
        message = twilio_services.missed_call_text_back(call=call, claimed_until=lease)
    return message


def test_the_text_back_row_commits_claimed_before_twilio_is_called(fake_twilio, missed_call):
    message = _claim_and_die(missed_call, lease_over=False)

    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENDING, 1)
    assert message.not_before > timezone.now()
    assert fake_twilio.requests == []


def test_a_claimed_text_back_still_in_its_lease_is_not_swept(fake_twilio, missed_call):
    _claim_and_die(missed_call, lease_over=False)

    assert sms_services.outbox_sweep() == 0


def test_a_text_back_whose_worker_died_before_twilio_is_sent_once_by_the_sweep(fake_twilio, missed_call):
    message = _claim_and_die(missed_call, lease_over=True)

    assert sms_services.outbox_sweep() == 1  # the send task runs inline in tests: looks, then sends

    message.refresh_from_db()
    assert len(fake_twilio.creates()) == 1
    assert message.status == Message.Status.SENT and message.attempts == 2


def test_a_text_back_twilio_already_holds_is_adopted_after_a_crash(fake_twilio, missed_call):
    message = _claim_and_die(missed_call, lease_over=True)
    held = fake_twilio.hold(to=CALLER, body=message.body)

    sms_services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert fake_twilio.creates() == []
    assert message.status == Message.Status.SENT and message.provider_sid == held["sid"]


def test_a_failed_text_back_send_is_left_queued_for_the_outbox(fake_twilio, missed_call):
    fake_twilio.fail_next(status=503)

    call = twilio_services.call_text_back(call_id=missed_call.pk)

    message = Message.objects.get(pk=call.text_back_id)
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)
    assert message.not_before > timezone.now()  # the retry time
    assert len(fake_twilio.creates()) == 1


def test_an_unidentified_callers_text_back_waits_for_identification_to_get_a_customer(
    fake_twilio, missed_call
):
    call = twilio_services.call_text_back(call_id=missed_call.pk)
    assert Message.objects.get(pk=call.text_back_id).customer is None

    call = phone.call_identify(call_id=missed_call.pk)

    text = Message.objects.get(pk=call.text_back_id)
    assert text.customer == call.customer and text.conversation.customer == call.customer
    assert text.lead == call.lead and text.status == Message.Status.SENT


def test_the_missed_call_and_its_text_back_join_the_callers_timeline_once_they_are_identified(
    fake_twilio, missed_call
):
    twilio_services.call_text_back(call_id=missed_call.pk)

    call = phone.call_identify(call_id=missed_call.pk)
    phone.call_identify(call_id=missed_call.pk)  # a retried task adds nothing

    for record in (call.customer, call.lead):
        codes = list(
            Event.objects.filter(
                links__target_type=ContentType.objects.get_for_model(record), links__target_id=str(record.pk)
            ).values_list("code", flat=True)
        )
        assert sorted(c for c in codes if c.startswith(("crm.call", "crm.message"))) == [
            "crm.call.missed",
            "crm.call.received",
            "crm.message.queued",
            "crm.message.sent",
        ]

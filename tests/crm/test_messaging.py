from datetime import UTC, datetime

import pytest
import time_machine

from common.errors import ApplicationError
from customers.models import ConsentEvent
from customers.services import consent_check, consent_record
from messaging import services as messaging
from messaging.models import Conversation, Message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

DAY = "2026-11-20 15:00 -06:00"


@time_machine.travel(DAY, tick=False)
def test_a_reply_lands_on_the_customers_conversation(office, business):
    customer = make_customer(actor=office, first_name="Ana", phones=["512-555-0199"])
    message = messaging.message_queue(to="(512) 555-0199", body="On our way!", actor=office)
    assert message.status == "queued" and message.customer == customer
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.customer == customer and conversation.last_message_preview == "On our way!"


@time_machine.travel(DAY, tick=False)
def test_the_first_automated_text_names_the_business_and_how_to_stop(business):
    first = messaging.message_queue(to="+15125550199", body="Thanks!", purpose="automated")
    second = messaging.message_queue(to="+15125550199", body="Still there?", purpose="automated")
    assert first.body == "Test Plumbing Co: Thanks! Reply STOP to opt out."
    assert second.body == "Still there?"


@time_machine.travel(DAY, tick=False)
def test_an_opted_out_number_gets_nothing_but_a_keyword_confirmation(business):
    consent_record(
        number="+15125550199", state="opted_out", method="keyword", evidence={"message_sid": "SM1"}
    )
    assert messaging.message_queue(to="+15125550199", body="Hi", purpose="care").status == "suppressed"
    confirmation = messaging.message_queue(to="+15125550199", body="You're unsubscribed.", purpose="keyword")
    assert confirmation.status == "queued"
    consent_record(number="+15125550199", state="opted_in", method="keyword")
    assert messaging.message_queue(to="+15125550199", body="Hi again", purpose="care").status == "queued"


def test_consent_rules(db):
    number = "+15125550199"
    assert consent_check(number=number, purpose="care") == ""
    assert consent_check(number=number, purpose="marketing") == "no marketing consent"
    consent_record(number=number, state="revocation_flagged", method="message")
    assert consent_check(number=number, purpose="automated").startswith("asked to stop")
    assert consent_check(number=number, purpose="care") == ""
    consent_record(number=number, state="revocation_cleared", method="staff")
    assert consent_check(number=number, purpose="automated") == ""
    consent_record(number=number, state="not_textable", method="provider")
    assert consent_check(number=number, purpose="care") == "not a mobile number"
    assert ConsentEvent.objects.filter(number=number).count() == 3


def test_the_ledger_updates_every_customer_with_the_number(office):
    a = make_customer(actor=office, phones=["512-555-0199"])
    b = make_customer(actor=office, phones=["(512) 555-0199"])
    consent_record(number="+15125550199", state="opted_out", method="keyword")
    assert {a.phones.get().sms_consent, b.phones.get().sms_consent} == {"opted_out"}


@time_machine.travel("2026-11-20 22:15 -06:00", tick=False)
def test_quiet_hours_hold_automated_texts_but_not_a_persons_reply(business, office):
    held = messaging.message_queue(to="+15125550199", body="Reminder", purpose="automated")
    reply = messaging.message_queue(to="+15125550199", body="Sure, 9am works", purpose="care", actor=office)
    # A 512 number is in Texas, where automated texts start at 9:00 (Saturday 9:00 CST = 15:00 UTC).
    assert held.status == "held" and held.not_before == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert held.hold_rule.startswith("TX: 9:00-21:00 Mon-Sat")
    assert reply.status == "queued"
    with time_machine.travel("2026-11-21 09:01 -06:00", tick=False):
        assert messaging.message_release_held() == 1
    assert Message.objects.get(pk=held.pk).status == "queued"


def test_an_empty_or_too_long_text_is_refused(business):
    with pytest.raises(ApplicationError):
        messaging.message_queue(to="+15125550199", body="  ")
    with pytest.raises(ApplicationError):
        messaging.message_queue(to="+15125550199", body="x" * 1601)
    with pytest.raises(ApplicationError) as error:
        messaging.message_queue(to="555-12", body="hi")
    assert error.value.field == "to"


def test_an_inbound_text_is_stored_once_per_sid(office, business):
    customer = make_customer(actor=office, phones=["512-555-0199"])
    first, created = messaging.message_receive(
        from_number="+15125550199", to_number="+15555550100", body="Is 3pm ok?", provider_sid="SM123"
    )
    again, created_again = messaging.message_receive(
        from_number="+15125550199", to_number="+15555550100", body="Is 3pm ok?", provider_sid="SM123"
    )
    assert created and not created_again and first.pk == again.pk
    conversation = Conversation.objects.get(pk=first.conversation_id)
    assert conversation.customer == customer and conversation.unread_count == 1


@time_machine.travel(DAY, tick=False)
def test_with_the_broker_down_when_the_lead_arrives_the_text_goes_out_once_it_is_back(
    web_source, business, django_capture_on_commit_callbacks
):
    """The lead commits but its lead.created never reached the broker; the sweeps deliver it later, once."""
    from datetime import timedelta

    from crm.services import LeadIn, lead_capture
    from events.services import sweep_undelivered
    from messaging.outbox import outbox_sweep

    lead = lead_capture(source=web_source, contact=LeadIn(name="Ana Ruiz", phone="512-555-0199")).lead
    assert not Message.objects.exists()  # nothing happened after commit: the broker was down
    with django_capture_on_commit_callbacks(execute=True):
        sweep_undelivered(grace=timedelta(0))
    text = Message.objects.get(lead=lead)
    assert text.status == "sent" and text.provider_sid.startswith("SMconsole")
    with django_capture_on_commit_callbacks(execute=True):
        sweep_undelivered(grace=timedelta(0))
        outbox_sweep()
    assert Message.objects.filter(lead=lead).count() == 1

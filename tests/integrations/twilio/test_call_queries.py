"""The missed-call path does a fixed, small amount of database work per call (bench/speed_to_lead.py
measures its time; these counts catch a change that adds queries to it)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from crm import phone
from crm.models import Lead, Source
from customers.models import Customer
from messaging import calls as services
from messaging.models import Call, Conversation, Message, MessagingSettings
from users.models import Business

from .helpers import BUSINESS_NUMBER, CALLER

pytestmark = pytest.mark.django_db


def _advisory_lock() -> int:
    """PostgreSQL takes an advisory lock (one query); SQLite writes one transaction at a time."""
    return 1 if connection.vendor == "postgresql" else 0


@pytest.fixture
def missed(rules, business):
    """A missed call from a new number, with what a running process already holds: the settings and the
    business read once, the content types cached, the phone source made by an earlier call."""
    MessagingSettings.current(), Business.current()
    ContentType.objects.get_for_models(Call, Conversation, Customer, Lead, Message)
    Source.objects.create(name="Phone call", slug="inbound-phone", kind=Source.Kind.PHONE)
    return Call.objects.create(call_sid="CA500", from_number=CALLER, to_number=BUSINESS_NUMBER, missed=True)


def test_the_text_back_to_an_unidentified_caller_takes_a_fixed_number_of_queries(
    missed, django_assert_num_queries
):
    # Before Twilio: lock the call, call.missed and its link, consent, the number's lock, the window,
    # first automated text?, the claimed row, its timeline event and link, the call's decision
    # (+ savepoint and release). After: sent, its event and link (+ savepoint and release).
    with django_assert_num_queries(17 + _advisory_lock()):
        call = services.call_text_back(call_id=missed.pk)

    assert Message.objects.get(pk=call.text_back_id).status == Message.Status.SENT


def test_identifying_a_new_caller_takes_a_fixed_number_of_queries(missed, django_assert_num_queries):
    services.call_text_back(call_id=missed.pk)

    # A new customer (phone, event) and lead (event) under the contact lock, then the call locked for its
    # final write, the text put on the new conversation, the earlier events (missed call, text) linked
    # to the new customer and lead, the call's timeline event.
    with django_assert_num_queries(30 + _advisory_lock()):
        call = phone.call_identify(call_id=missed.pk)

    assert call.lead is not None and call.text_back.customer == call.customer

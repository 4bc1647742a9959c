from datetime import timedelta

import pytest

from common.errors import ApplicationError
from crm.models import Lead
from crm.services import LeadIn
from integrations import inbound
from integrations.models import InboundLead

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(db):
    from crm.models import Source

    return Source.objects.create(name="Zapier", slug="zapier", kind=Source.Kind.WEBHOOK)


def _accept(source, key="k1", **contact):
    contact = {"name": "Ana Ruiz", "phone": "(512) 555-0199", **contact}
    return inbound.inbound_accept(
        source=source,
        contact=LeadIn(**contact),
        channel="Zapier webhook",
        idempotency_key=key,
        attribution={"utm_source": "zap"},
        raw_payload={"a": 1},
    )


def test_an_accepted_delivery_becomes_one_lead_after_commit(source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = _accept(source)
    inbound_lead = InboundLead.objects.get(pk=accepted.inbound.pk)
    assert accepted.created and inbound_lead.status == "done"
    lead = inbound_lead.lead
    assert lead.phone == "+15125550199" and lead.attribution == {"utm_source": "zap"}
    assert lead.arrived_at == inbound_lead.received_at


def test_the_same_key_twice_is_accepted_once(source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _accept(source)
        second = _accept(source)
    assert not second.created and second.inbound.pk == first.inbound.pk
    assert Lead.objects.count() == 1 and InboundLead.objects.count() == 1


def test_a_bad_phone_is_refused_in_the_request_and_nothing_is_stored(source):
    with pytest.raises(ApplicationError) as error:
        _accept(source, phone="555-12")
    assert error.value.field == "phone"
    assert not InboundLead.objects.exists()


def test_processing_twice_captures_once(source):
    accepted = _accept(source)  # its on_commit never runs here
    inbound.inbound_process(inbound_id=accepted.inbound.pk)
    inbound.inbound_process(inbound_id=accepted.inbound.pk)
    assert Lead.objects.count() == 1


def test_the_sweep_captures_what_the_broker_never_got(source, django_capture_on_commit_callbacks):
    accepted = _accept(source)
    assert InboundLead.objects.get(pk=accepted.inbound.pk).status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound.inbound_sweep(grace=timedelta(0)) == 1
    assert InboundLead.objects.get(pk=accepted.inbound.pk).status == "done"
    assert inbound.inbound_sweep(grace=timedelta(0)) == 0


def test_a_delivery_that_keeps_failing_is_marked_failed_with_the_error(source):
    accepted = _accept(source)
    InboundLead.objects.filter(pk=accepted.inbound.pk).update(contact={"name": "x", "phone": "bogus"})
    for _ in range(inbound.MAX_ATTEMPTS):
        result = inbound.inbound_process(inbound_id=accepted.inbound.pk)
    assert result.status == "failed" and result.attempts == inbound.MAX_ATTEMPTS
    assert "not a valid phone number" in result.last_error
    assert not Lead.objects.exists()


def test_the_capture_locks_the_delivery_and_never_its_source(
    require_postgres, source, django_capture_on_commit_callbacks
):
    """A lock on the source row would queue every accept's COMMIT and every other capture behind it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    accepted = _accept(source)
    with CaptureQueriesContext(connection) as queries:
        inbound.inbound_process(inbound_id=accepted.inbound.pk)

    [lock] = [
        q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] and "inboundlead" in q["sql"]
    ]
    assert lock.endswith('FOR UPDATE OF "integrations_inboundlead"')


def test_a_new_leads_capture_takes_a_fixed_number_of_queries(
    require_postgres, source, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """A new customer with phone, e-mail and property, attribution and the timeline: bench/lead_breakdown.py
    measures its time; this count catches a change that adds statements to it (issue 13: 33 before)."""
    address = {"street": "1944 Stanton St", "city": "Austin", "state": "TX", "zip_code": "78704"}
    warm = _accept(source, key="warm-up", phone="(512) 555-0100", email="warm@example.com", **address)
    inbound.inbound_process(inbound_id=warm.inbound.pk)  # content types, settings: what a worker holds
    accepted = _accept(source, key="k2", phone="(512) 555-0111", email="ana@example.com", **address)

    # The delivery locked; the contact's two advisory locks (phone, e-mail); the customer looked up by
    # phone and by e-mail; customer, phone, e-mail and property INSERTs; customer.created and its link;
    # round robin on?; the lead; lead.created and its links (one INSERT); the delivery's update. Three
    # savepoints and their releases (the test's transaction makes the outermost one a savepoint too).
    with django_assert_num_queries(22):
        done = inbound.inbound_process(inbound_id=accepted.inbound.pk)

    lead = done.lead
    assert (lead.customer.properties.get().street, lead.attribution) == (
        "1944 Stanton St",
        {"utm_source": "zap"},
    )
    assert lead.customer.phones.count() == lead.customer.emails.count() == 1

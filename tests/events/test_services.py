from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import services
from events.models import Delivery, Event
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_publish_refuses_an_unknown_milestone(office):
    customer = make_customer(actor=office)
    with pytest.raises(services.EventError):
        services.publish("customer.exploded", subject=customer)


def test_a_rolled_back_change_leaves_no_event(office):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_customer(actor=office)
        raise RuntimeError("boom")
    assert not Event.objects.exists()


def test_after_commit_each_subscriber_gets_one_delivery(office, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(actor=office)
    event = Event.objects.get(milestone="customer.created", subject_id=str(customer.pk))
    delivery = Delivery.objects.get(event=event, subscriber="tests.recorder")
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert recorder.calls == [event.pk]
    event.refresh_from_db()
    assert event.fanned_out_at is not None


def test_fanning_out_twice_delivers_once(office, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(actor=office)
    event = Event.objects.get(milestone="customer.created")
    services.event_fan_out(event_id=event.pk)
    delivery = Delivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk, force=True)
    assert recorder.calls == [event.pk]


def test_a_failing_subscriber_backs_off_then_lands_in_the_exception_queue(office, recorder, settings):
    settings.EVENTS_MAX_ATTEMPTS = 3
    recorder.failing = True
    make_customer(actor=office)
    event = Event.objects.get(milestone="customer.created")
    delivery = services.event_fan_out(event_id=event.pk)[0]
    first = services.delivery_attempt(delivery_id=delivery.pk)
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at > timezone.now() + timedelta(seconds=5)
    assert "ledger is closed" in first.last_error
    not_due = services.delivery_attempt(delivery_id=delivery.pk)
    assert not_due.attempts == 1, "an attempt before the backoff is over does nothing"
    services.delivery_attempt(delivery_id=delivery.pk, force=True)
    final = services.delivery_attempt(delivery_id=delivery.pk, force=True)
    assert final.status == "failed" and final.attempts == 3
    assert list(Delivery.objects.filter(status="failed")) == [final]


def test_retry_from_the_queue_delivers_once(office, recorder, settings, django_capture_on_commit_callbacks):
    settings.EVENTS_MAX_ATTEMPTS = 1
    recorder.failing = True
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(actor=office)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    recorder.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(delivery=delivery, actor=office)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(recorder.calls) == 1
    assert Event.objects.filter(code="events.delivery.retried").exists()
    with pytest.raises(services.EventError):
        services.delivery_retry(delivery=delivery, actor=office)


def test_dismiss_only_failed_deliveries(office, recorder, settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    recorder.failing = True
    make_customer(actor=office)
    delivery = services.event_fan_out(event_id=Event.objects.get().pk)[0]
    with pytest.raises(services.EventError):
        services.delivery_dismiss(delivery=delivery, actor=office)
    services.delivery_attempt(delivery_id=delivery.pk)
    assert services.delivery_dismiss(delivery=delivery, actor=office).status == "dismissed"


def test_a_subscriber_that_disappeared_fails_with_a_clear_error(office, settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    event = make_customer(actor=office) and Event.objects.get()
    delivery = Delivery.objects.create(event=event, subscriber="gone.subscriber")
    result = services.delivery_attempt(delivery_id=delivery.pk)
    assert result.status == "failed" and "No subscriber named 'gone.subscriber'" in result.last_error


def test_the_sweep_resends_what_the_broker_lost(office, recorder, django_capture_on_commit_callbacks):
    make_customer(actor=office)  # its on_commit never runs here: as if the broker never got the message
    event = Event.objects.get(milestone="customer.created")
    assert event.fanned_out_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_undelivered(grace=timedelta(0)) == {"events": 1, "deliveries": 0}
    assert recorder.calls == [event.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_undelivered(grace=timedelta(0)) == {"events": 0, "deliveries": 0}
    assert recorder.calls == [event.pk]


def test_the_sweep_leaves_fresh_events_to_the_normal_path(office, recorder):
    make_customer(actor=office)
    assert services.sweep_undelivered() == {"events": 0, "deliveries": 0}


def test_a_subscriber_exception_rolls_back_its_own_writes(office, settings):
    from events import registry

    settings.EVENTS_MAX_ATTEMPTS = 5

    def half_writer(event):
        services.record("tests.half.written", subject=event.subject)
        raise ValueError("after writing")

    registry.subscriber("customer.created", name="tests.half")(half_writer)
    try:
        make_customer(actor=office)
        delivery = services.event_fan_out(event_id=Event.objects.get().pk)[0]
        services.delivery_attempt(delivery_id=delivery.pk)
    finally:
        registry.unsubscribe("tests.half")
    assert not Event.objects.filter(code="tests.half.written").exists()


def test_a_milestone_nobody_subscribes_to_is_still_stored_pending_until_a_worker_fans_it_out(
    office, django_capture_on_commit_callbacks
):
    make_customer(actor=office)  # no subscriber of customer.created here, and the task did not run
    event = Event.objects.get(milestone="customer.created")
    assert event.fanned_out_at is None
    assert services.event_fan_out(event_id=event.pk) == []
    event.refresh_from_db()
    assert event.fanned_out_at is not None and not Delivery.objects.exists()


def test_an_invalid_milestone_payload_is_refused_when_published_and_nothing_is_stored(office):
    customer = make_customer(actor=office)
    before = Event.objects.count()
    with pytest.raises(services.EventError, match=r"customer\.merged data: duplicate_id: Field required"):
        services.publish("customer.merged", subject=customer, data={"survivor_id": customer.pk, "moved": {}})
    with pytest.raises(services.EventError, match="phones: Input should be a valid list"):
        services.publish("customer.created", subject=customer, data={"phones": "+15125550100", "emails": []})
    with pytest.raises(services.EventError, match="colour: Extra inputs are not permitted"):
        services.publish("customer.created", subject=customer, data={"phones": [], "emails": [], "colour": 1})
    with pytest.raises(services.EventError, match=r"invoice\.paid data: invoice_id: Field required"):
        services.publish("invoice.paid", subject=customer, data={})
    assert Event.objects.count() == before


def test_replay_gives_a_subscriber_added_later_each_past_milestone_once(
    office, django_capture_on_commit_callbacks
):
    from events import registry

    old = make_customer(actor=office)
    Event.objects.filter(subject_id=str(old.pk)).update(occurred_at=timezone.now() - timedelta(days=40))
    recent = [make_customer(actor=office) for _ in range(2)]
    calls = []
    registry.subscriber("customer.created", name="tests.late")(lambda event: calls.append(event.subject_id))
    try:
        since = timezone.now() - timedelta(days=30)
        assert services.deliveries_replay(subscriber="tests.late", since=since, dry_run=True) == 2
        with django_capture_on_commit_callbacks(execute=True):
            assert services.deliveries_replay(subscriber="tests.late", since=since) == 2
        with django_capture_on_commit_callbacks(execute=True):
            assert services.deliveries_replay(subscriber="tests.late", since=since) == 0
    finally:
        registry.unsubscribe("tests.late")
    assert sorted(calls) == sorted(str(c.pk) for c in recent)
    assert Delivery.objects.filter(subscriber="tests.late").count() == 2


def test_replay_names_an_unknown_subscriber(office):
    with pytest.raises(services.EventError, match=r"No subscriber named 'finance\.nope'"):
        services.deliveries_replay(subscriber="finance.nope", since=timezone.now())

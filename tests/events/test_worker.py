"""The milestone log with the real parts: PostgreSQL, a Redis broker and a Celery worker consuming it.

The worker runs in a thread of this process (celery.contrib.testing), so the test subscriber registered
here is the one it calls; everything between publish and the subscriber is the production path.
"""

import time
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections, transaction

from config.celery import app
from events import services
from events.models import Delivery, Event
from tests.factories import make_customer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_broker(require_postgres, redis_url, settings):
    """Tasks go to Redis (not run inline) for this test; the queue starts empty."""
    settings.EVENTS_RETRY_BACKOFF_SECONDS = 0
    settings.EVENTS_MAX_ATTEMPTS = 3
    app.conf.task_always_eager = False
    _use_broker(redis_url)
    app.control.purge()
    yield redis_url
    app.conf.task_always_eager = True


def _use_broker(url: str) -> None:
    app.conf.broker_url = url
    app._after_fork()  # drop pooled connections to the previous broker


@contextmanager
def running_worker():
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20):
        yield
    connections.close_all()


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_published_milestone_reaches_its_subscriber_through_the_worker(real_broker, recorder, office):
    with running_worker():
        with transaction.atomic():
            customer = make_customer(actor=office)
        event = Event.objects.get(milestone="customer.created", subject_id=str(customer.pk))
        assert wait_for(lambda: Delivery.objects.filter(event=event, status="delivered").exists())
        time.sleep(0.5)  # anything extra would show up now
    assert recorder.calls == [event.pk]
    assert Delivery.objects.get(event=event).attempts == 1


def test_a_raising_subscriber_lands_in_the_exception_queue_and_a_retry_delivers_once(
    real_broker, recorder, office
):
    recorder.failing = True
    with running_worker():
        with transaction.atomic():
            make_customer(actor=office)
        assert wait_for(lambda: Delivery.objects.filter(status="failed").exists())
        delivery = Delivery.objects.get()
        assert delivery.attempts == 3 and "ledger is closed" in delivery.last_error

        recorder.failing = False
        services.delivery_retry(delivery=delivery, actor=office)
        assert wait_for(lambda: Delivery.objects.filter(status="delivered").exists())
        time.sleep(0.5)
    assert len(recorder.calls) == 1


def test_with_the_broker_down_the_change_commits_and_the_sweep_delivers_it_later_exactly_once(
    real_broker, recorder, office
):
    from datetime import timedelta

    _use_broker("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        started = time.monotonic()
        with transaction.atomic():
            customer = make_customer(actor=office)
        assert time.monotonic() - started < 10, "a dead broker must not hang the request"
    finally:
        _use_broker(real_broker)
    event = Event.objects.get(milestone="customer.created", subject_id=str(customer.pk))
    assert event.fanned_out_at is None and not Delivery.objects.exists()

    with running_worker():
        assert services.sweep_undelivered(grace=timedelta(0)) == {"events": 1, "deliveries": 0}
        assert wait_for(lambda: Delivery.objects.filter(status="delivered").exists())
        services.sweep_undelivered(grace=timedelta(0))
        time.sleep(1.0)
    assert recorder.calls == [event.pk]
    assert Delivery.objects.count() == 1


@contextmanager
def empty_registry():
    """This process's registry as a process started before the subscriber's deploy would have it."""
    from events import registry

    saved = dict(registry._subscribers)
    registry._subscribers.clear()
    try:
        yield
    finally:
        registry._subscribers.update(saved)


def test_a_milestone_published_where_no_subscriber_is_known_reaches_the_one_the_worker_knows(
    real_broker, recorder, office
):
    with empty_registry(), transaction.atomic():
        customer = make_customer(actor=office)  # the fan-out task goes to Redis; no worker yet
    event = Event.objects.get(milestone="customer.created", subject_id=str(customer.pk))
    assert event.fanned_out_at is None, "stored pending: the publisher does not decide who gets it"

    with running_worker():  # a worker that knows tests.recorder
        assert wait_for(lambda: Delivery.objects.filter(event=event, status="delivered").exists())
        time.sleep(0.5)
    event.refresh_from_db()
    assert recorder.calls == [event.pk] and event.fanned_out_at is not None

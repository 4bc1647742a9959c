import pytest
from django.utils import timezone

from events.models import WorkerHeartbeat
from events.services import heartbeat

pytestmark = pytest.mark.django_db


def test_healthy_when_database_broker_and_worker_are_fine(client):
    heartbeat()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"] and body["worker"]["ok"]


def test_503_when_no_worker_has_beaten(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "error": "no heartbeat yet"}


def test_503_when_the_last_heartbeat_is_too_old(client, settings):
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now() - timezone.timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["worker"]["ok"] is False


def test_503_when_the_broker_is_unreachable(client, settings):
    from config.celery import app

    heartbeat()
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._after_fork()
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
        app._after_fork()
    assert response.status_code == 503 and response.json()["broker"]["ok"] is False

"""The real crash: a Celery worker is killed (-9) after Twilio accepted the text but before it heard back.

PostgreSQL, Redis and a worker subprocess are real; Twilio is the local fake. Skipped without the services
locally, failed in CI (REQUIRE_SERVICES=1).
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from config.celery import app
from messaging import outbox as services
from messaging.models import Message
from messaging.services import message_queue

from .conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
TO = "+15125550199"


@pytest.fixture
def real_broker(require_postgres, redis_url):
    """Tasks go to Redis (not run inline) for this test; the queue starts empty."""
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    app._after_fork()  # drop pooled connections to the previous broker
    app.control.purge()
    yield redis_url
    app.control.purge()
    _forget_unacked_sends(redis_url)
    app.conf.task_always_eager = True


def _forget_unacked_sends(redis_url: str) -> None:
    """The killed worker's task stays 'unacked' in Redis; drop it so no later worker restores it."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for tag, payload in client.hgetall("unacked").items():
        if b"messaging.tasks.send_text" in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(redis_url: str, twilio_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": twilio_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": FROM_NUMBER,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "--without-heartbeat"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_after_twilio_accepted_the_text_never_causes_a_second_text(
    real_broker, fake_twilio, shop, tmp_path
):
    fake_twilio.delay_seconds = 3.0  # the worker is killed while it waits for this answer
    worker = _start_worker(real_broker, fake_twilio.url, tmp_path / "worker.log")
    try:
        message = message_queue(to=TO, body="Your technician Sam arrives at 10am.", purpose="care")
        posted = wait_for(lambda: fake_twilio.creates(), timeout=40)
        assert posted, (tmp_path / "worker.log").read_text()[-3000:]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    connections.close_all()

    message.refresh_from_db()
    assert message.status == Message.Status.SENDING and message.attempts == 1
    assert message.provider_sid is None

    # The lease of the dead worker runs out; the sweep hands the row to a fresh attempt (inline here).
    Message.objects.filter(pk=message.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    app.conf.task_always_eager = True
    assert services.outbox_sweep(queued_grace=timedelta(0)) == 1
    services.message_send(message_id=message.pk)  # and running it again changes nothing

    message.refresh_from_db()
    assert len(fake_twilio.creates()) == 1
    assert [m["sid"] for m in fake_twilio.messages] == [message.provider_sid]
    assert message.status == Message.Status.SENT and message.attempts == 1

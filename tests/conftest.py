"""Shared fixtures: personas, factories, and the real services (PostgreSQL, Redis, a Celery worker).

Outside CI a test that needs a missing service is skipped with the reason; with `--require-services`
(or REQUIRE_SERVICES=1, which .ci/run sets) the same test fails instead.
"""

import os

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from config.celery import app as celery_app
from tests.factories import UserFactory
from users.roles import Role


def pytest_addoption(parser):
    parser.addoption(
        "--require-services",
        action="store_true",
        default=False,
        help="Fail (instead of skip) tests whose service (PostgreSQL, Redis, Chromium) is missing.",
    )


def services_required(config) -> bool:
    return config.getoption("--require-services") or os.environ.get("REQUIRE_SERVICES") == "1"


def missing_service(request, reason: str):
    """Skip outside CI; fail in CI. Call from a fixture or test when a real service is not there."""
    if services_required(request.config):
        pytest.fail(f"Required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """Unit tests run tasks inline; tests/events/test_worker.py turns this off and starts a real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (the cached Business, rate-limit counters)."""
    from django.core.cache import cache

    from users.models import current_memo

    cache.clear()
    current_memo.forget()
    yield
    cache.clear()
    current_memo.forget()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def require_postgres(request, db):
    if connection.vendor != "postgresql":
        missing_service(request, "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/app")


@pytest.fixture
def redis_url(request) -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing_service(request, "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(request, f"Redis at {url} is not answering: {exc}")
    return url


def _persona(role: str | None, username: str):
    return UserFactory(username=username, role=role)


@pytest.fixture
def owner(db):
    return _persona(Role.OWNER, "owner")


@pytest.fixture
def office(db):
    return _persona(Role.OFFICE, "office")


@pytest.fixture
def dispatcher(db):
    return _persona(Role.DISPATCHER, "dispatcher")


@pytest.fixture
def technician(db):
    return _persona(Role.TECHNICIAN, "tech")


@pytest.fixture
def other_technician(db):
    return _persona(Role.TECHNICIAN, "tech_other")


@pytest.fixture
def outsider(db):
    """A logged-in account with no role at all."""
    return _persona(None, "outsider")


@pytest.fixture
def personas(owner, office, dispatcher, technician, outsider) -> dict:
    return {
        "owner": owner,
        "office": office,
        "dispatcher": dispatcher,
        "technician": technician,
        "outsider": outsider,
    }


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def business(db):
    from users.models import Business

    return Business.objects.create(name="Test Plumbing Co", time_zone="America/Chicago", phone="+15125550100")


def pytest_collection_modifyitems(config, items):
    # Browser tests are slow: run them last, after everything else has passed.
    items.sort(key=lambda item: "tests/e2e/" in str(item.fspath))


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}",
        f"broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
        f"require services: {services_required(config)}",
    ]

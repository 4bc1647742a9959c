"""Where one lead's time goes, phase by phase, in one process on PostgreSQL (no HTTP, no broker).

    .venv/bin/python bench/lead_breakdown.py [--leads 300] [--top 18]

Recreates its own database (homeservice_bench_breakdown), makes a webhook source and its key, then for
each of `--leads` new leads (a new customer with phone, e-mail and property, attribution, instant reply
on) runs the three phases a lead goes through, one after the other, as the web and the worker do:

  accept    the lead webhook's view (Django's test client): validate, store the delivery
  capture   integrations.inbound.inbound_process: customer, lead, attribution, timeline, milestones stored
  after     what the worker does after the capture commits: the milestones' fan-out, each subscriber's
            delivery (timeline, round robin, the instant reply queued) and the reply's send (console SMS)

and prints, per phase: wall ms per lead (p50, p99), SQL statements per lead and the share of the time
spent waiting on PostgreSQL (the statements' own durations) against Python; then the functions of this
project that cost the most inside capture and after (cProfile, cumulative ms per lead).
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lead_ingest import payload, percentile  # noqa: E402

DB_NAME = "homeservice_bench_breakdown"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
OURS = ("crm/", "customers/", "events/", "messaging/", "integrations/", "users/", "fsm/")


def setup() -> str:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        CELERY_BROKER_URL="memory://",
        REDIS_URL="",
        CACHE_REDIS_URL="",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from crm.models import Source
    from crm.services import source_key_create
    from users.models import Business

    call_command("migrate", verbosity=0)
    Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago")
    source = Source.objects.create(name="Bench webhook", slug="bench", kind=Source.Kind.WEBHOOK)
    return source_key_create(source=source, actor=None, label="bench")[1]


class Timed:
    """Count the statements and their time (Django's execute wrappers) inside a block."""

    def __init__(self):
        self.statements, self.db_seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db_seconds += time.perf_counter() - started
            self.statements += 1


def after_commit_work() -> None:
    """What the worker does once a capture committed, inline: fan-out, deliveries, the reply's send."""
    from config.celery import app
    from events.models import Event
    from events.services import enqueue
    from messaging import outbox
    from messaging.models import Message

    app.conf.task_always_eager = True
    try:
        pending = Event.objects.exclude(milestone="").filter(fanned_out_at__isnull=True)
        for pk in pending.values_list("pk", flat=True):
            enqueue("events.tasks.fan_out", pk)
        for pk in Message.objects.filter(status="queued").values_list("pk", flat=True):
            outbox.message_send(message_id=pk)
    finally:
        app.conf.task_always_eager = False


def measure(key: str, leads: int) -> tuple[dict, dict]:
    from django.db import connection
    from django.test import Client

    from integrations.inbound import inbound_process
    from integrations.models import InboundLead

    client = Client()
    phases = {name: {"wall": [], "statements": 0, "db": 0.0} for name in ("accept", "capture", "after")}
    profiles = {"capture": cProfile.Profile(), "after": cProfile.Profile()}

    def run(name: str, work) -> None:
        timed, profile = Timed(), profiles.get(name)
        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            if profile:
                profile.enable()
            try:
                work()
            finally:
                if profile:
                    profile.disable()
        phases[name]["wall"].append((time.perf_counter() - started) * 1000)
        phases[name]["statements"] += timed.statements
        phases[name]["db"] += timed.db_seconds

    for i in range(-20, leads):  # 20 warm-up leads, not counted
        body = json.dumps(payload(700_000 + i if i < 0 else i))
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_IDEMPOTENCY_KEY": f"lead-{i}"}

        def accept(body=body, headers=headers):
            response = client.post(
                "/integrations/leads/bench/", data=body, content_type="application/json", **headers
            )
            assert response.status_code == 202, response.content

        def capture(i=i):
            inbound_process(inbound_id=InboundLead.objects.get(idempotency_key=f"lead-{i}").pk)

        if i < 0:
            accept(), capture(), after_commit_work()
            continue
        run("accept", accept)
        run("capture", capture)
        run("after", after_commit_work)
    return phases, profiles


def report(phases: dict, profiles: dict, n: int, top: int) -> None:
    from messaging.models import Message

    print(f"{n} new leads (new customer, phone, e-mail, property, attribution, instant reply), one process")
    print(f"{'phase':10}{'p50 ms':>9}{'p99 ms':>9}{'SQL/lead':>10}{'DB ms/lead':>12}{'Python ms/lead':>16}")
    for name, figures in phases.items():
        wall = figures["wall"]
        db_ms = figures["db"] * 1000 / n
        print(
            f"{name:10}{statistics.median(wall):9.1f}{percentile(wall, 99):9.1f}"
            f"{figures['statements'] / n:10.1f}{db_ms:12.1f}{statistics.mean(wall) - db_ms:16.1f}"
        )
    replies = Message.objects.filter(template="instant_reply", status="sent").count()
    print(f"instant replies sent: {replies} of {n + 20}")
    for name, profile in profiles.items():
        print(f"\n{name}: this project's functions by cumulative time (ms per lead), calls per lead")
        rows = []
        for (path, line, func), (_, calls, _, cumulative, _) in pstats.Stats(profile).stats.items():
            relative = os.path.relpath(path, ROOT) if path.startswith(str(ROOT)) else ""
            if relative.startswith(OURS):
                rows.append((cumulative * 1000 / n, calls / n, f"{relative}:{line} {func}"))
        for ms, calls, where in sorted(rows, reverse=True)[:top]:
            print(f"  {ms:7.2f} ms  {calls:5.1f}x  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--top", type=int, default=18)
    args = parser.parse_args()
    key = setup()
    phases, profiles = measure(key, args.leads)
    report(phases, profiles, args.leads, args.top)


if __name__ == "__main__":
    main()

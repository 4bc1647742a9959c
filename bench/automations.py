"""One scheduler tick over many enrollments: how long it takes to hand every due step to the outbox.

    .venv/bin/python bench/automations.py [--customers 100000] [--due 5000] [--events 300000] [--runs 3]

Recreates its own PostgreSQL database (homeservice_bench_automations), migrates, and bulk-loads
`--customers` customers (a textable mobile and an Austin property each), one active sequence whose next
step is a text, one active enrollment per customer (100,000 by default) of which `--due` are due now and
the rest over the next two weeks, and `--events` milestones over the last 60 days (the activity log the
exit rules read: lead and job milestones of the same customers, a share of them inbound texts' events).
Each customer also has three years of work history as crm.segments keeps it (last job, job types,
lifetime spend, equipment). Then `--runs` times: the due enrollments are set due again (and their texts
deleted), one `automations_tick()` runs, and its wall time, steps per second and SQL statements per step
are printed (target: every due step handed to the outbox in under 5 s on 2 cores). Texts go to the
outbox only (the transport is not called: the send runs after commit in a worker, not running here). Three
segment counts over all the customers, 20 runs each: p50 / p95 (target < 500 ms).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "homeservice_bench_automations"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
MILESTONES = ["lead.created", "lead.qualified", "job.dispatched", "job.completed", "invoice.issued"]


def django_setup() -> None:
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


def recreate() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def load(customers: int, due: int, events: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from crm.automations.models import AutomationSettings, Enrollment, Sequence, Step
    from customers.models import Customer, PhoneNumber, Property
    from events.models import Event

    rng = random.Random(7)
    now = timezone.now()
    started = time.perf_counter()
    AutomationSettings.objects.create(max_per_day=3, max_per_week=6)
    sequence = Sequence.objects.create(name="Bench follow-up", trigger="manual", active=True)
    Step.objects.create(sequence=sequence, position=0, kind="sms", body="Hi {first_name}, any questions?")
    Step.objects.create(sequence=sequence, position=1, kind="wait", wait_days=3)
    Step.objects.create(sequence=sequence, position=2, kind="sms", body="Still here, {first_name}.")
    chunk = 5000
    for first in range(0, customers, chunk):
        made = Customer.objects.bulk_create(
            Customer(first_name=f"Cust{i}", last_name="Bench", sort_name=f"bench cust{i}")
            for i in range(first, min(customers, first + chunk))
        )
        PhoneNumber.objects.bulk_create(
            PhoneNumber(
                customer=c,
                number=f"+1512{200 + (c.pk // 10000) % 700:03d}{c.pk % 10000:04d}",
                is_primary=True,
            )
            for c in made
        )
        Property.objects.bulk_create(
            Property(
                customer=c,
                street=f"{c.pk} Main St",
                city="Austin",
                state="TX",
                zip_code="78704",
                is_primary=True,
            )
            for c in made
        )
        Enrollment.objects.bulk_create(
            Enrollment(
                sequence=sequence,
                customer=c,
                origin="bench",
                started_at=now - timedelta(days=rng.randint(1, 14)),
                due_at=now + timedelta(minutes=rng.randint(10, 14 * 24 * 60)),
            )
            for c in made
        )
    ids = list(Customer.objects.values_list("pk", flat=True))
    history(ids, now, rng)
    customer_type = ContentType.objects.get_for_model(Customer)
    for first in range(0, events, chunk):
        Event.objects.bulk_create(
            Event(
                code=f"bench.{m}",
                milestone=m,
                subject_type=customer_type,
                subject_id=str(pk),
                occurred_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
                data={"customer_id": pk, "lead_id": rng.randint(1, customers)},
                fanned_out_at=now,
            )
            for m, pk in (
                (rng.choice(MILESTONES), rng.choice(ids)) for _ in range(min(chunk, events - first))
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded {customers:,} customers with {customers:,} active enrollments and {events:,} events "
        f"in {time.perf_counter() - started:.0f} s"
    )


def history(ids: list[int], now, rng) -> None:
    """Three years of work for 80% of the customers, as crm.segments keeps it: last job, job types,
    lifetime spend; a unit of equipment at 40%."""
    from decimal import Decimal

    from crm.segments.models import CustomerEquipment, CustomerHistory, CustomerJobType

    types = ["AC tune-up", "AC repair", "Furnace repair", "Water heater replacement", "Drain cleaning"]
    kinds = ["Condenser", "Furnace", "Water heater", "Electrical panel"]
    worked = [pk for pk in ids if rng.random() < 0.8]
    for first in range(0, len(worked), 5000):
        chunk = worked[first : first + 5000]
        CustomerHistory.objects.bulk_create(
            CustomerHistory(
                customer_id=pk,
                jobs_completed=rng.randint(1, 6),
                first_job_at=now - timedelta(days=rng.randint(600, 1095)),
                last_job_at=now - timedelta(days=rng.randint(0, 1095)),
                lifetime_spend=Decimal(rng.randint(150, 15000)),
            )
            for pk in chunk
        )
        CustomerJobType.objects.bulk_create(
            CustomerJobType(
                customer_id=pk, job_type=job_type, last_at=now - timedelta(days=rng.randint(0, 1095))
            )
            for pk in chunk
            for job_type in rng.sample(types, rng.randint(1, 3))
        )
        CustomerEquipment.objects.bulk_create(
            CustomerEquipment(
                customer_id=pk,
                equipment_id=pk,
                kind=rng.choice(kinds),
                installed_on=(now - timedelta(days=rng.randint(365, 25 * 365))).date(),
            )
            for pk in chunk
            if rng.random() < 0.5
        )


def segment_bench(runs: int) -> None:
    from crm.segments.services import SegmentSpec, segment_count

    specs = {
        "last job > 12 months": SegmentSpec(last_job_months=12),
        "tune-up customers, last job > 12 months, not contacted in 30 days": SegmentSpec(
            last_job_months=12, job_types=["AC tune-up"], not_contacted_days=30
        ),
        "water heaters over 10 years, 3 ZIP codes, spent >= $1,000": SegmentSpec(
            equipment_kind="water heater",
            equipment_min_age_years=10,
            zip_codes=["78704", "78745", "78749"],
            min_spend=1000,
        ),
    }
    for label, spec in specs.items():
        segment_count(spec)
        times, count = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            count = segment_count(spec)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        verdict = "met" if p95 < 500 else "NOT met"
        print(
            f"segment count, {label}: {count:,} customers, p50 {statistics.median(times):.0f} ms, "
            f"p95 {p95:.0f} ms (target < 500 ms: {verdict})"
        )


def make_due(due: int) -> list[int]:
    from django.utils import timezone

    from crm.automations.models import Enrollment, EnrollmentStep
    from messaging.models import Message

    Message.objects.all().delete()
    EnrollmentStep.objects.all().delete()
    chosen = list(Enrollment.objects.order_by("pk").values_list("pk", flat=True)[:due])
    Enrollment.objects.filter(pk__in=chosen).update(
        due_at=timezone.now() - timedelta(seconds=30), position=0, waiting_reason=""
    )
    return chosen


def _where_the_time_goes(captured: list[dict], wall: float) -> None:
    """The statements of one tick grouped by shape (numbers and quoted values blanked): count and time."""
    import re

    shapes: dict[str, list[float]] = {}
    for query in captured:
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"])
        shape = re.sub(r"(\?, )+\?", "?...", shape)
        shapes.setdefault(shape[:150], []).append(float(query["time"]))
    total = sum(sum(times) for times in shapes.values())
    print(f"  SQL: {len(captured):,} statements, {total:.2f} s of the {wall:.2f} s in the database; the top:")
    for shape, times in sorted(shapes.items(), key=lambda kv: -sum(kv[1]))[:10]:
        print(f"  {sum(times):6.2f} s {len(times):6,}x  {shape}")


def tick_bench(due: int, runs: int, profile: bool = False) -> bool:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from crm.automations.engine import automations_tick
    from messaging.models import Message

    walls = []
    ok = True
    for run in range(runs):
        make_due(due)
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            if profile and run == 0:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                steps = profiler.runcall(automations_tick)
                wall = time.perf_counter() - started
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            else:
                steps = automations_tick()
                wall = time.perf_counter() - started
        queued = Message.objects.count()
        walls.append(wall)
        ok &= steps == due == queued
        if run == 0:
            _where_the_time_goes(queries.captured_queries, wall)
        print(
            f"tick {run + 1}: {steps:,} steps in {wall:.2f} s ({steps / wall:,.0f} steps/s), "
            f"{len(queries) / max(steps, 1):.1f} SQL per step, {queued:,} texts in the outbox"
        )
    median = statistics.median(walls)
    verdict = "met" if median < 5 else "NOT met"
    print(f"one tick, {due:,} due of the enrollments: median {median:.2f} s (target < 5 s: {verdict})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    parser.add_argument(
        "--profile", action="store_true", help="where the first tick spends its time (cProfile)"
    )
    args = parser.parse_args()
    if not args.reuse:
        recreate()
    django_setup()
    from django.core.management import call_command

    if not args.reuse:
        call_command("migrate", verbosity=0)
        from users.models import Business

        Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago", phone="+15125550100")
        load(args.customers, args.due, args.events)
    ok = tick_bench(args.due, args.runs, profile=args.profile)
    segment_bench(20)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

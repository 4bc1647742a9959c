"""Pipeline board and lead list with 10,000 open leads on PostgreSQL: server time and queries per page.

    .venv/bin/python bench/pipeline_board.py [--leads 10000] [--requests 100]

Target (issue 3): the board's server time p95 under 150 ms with 10,000 open leads. Uses DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/homeservice_bench (the customer-search bench database; its
customers are reused, and created if missing by running bench/customers_search.py first).
"""

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/homeservice_bench")
os.environ.setdefault("AXES_ENABLED", "0")

SERVICES = ["AC repair", "Water heater replacement", "Drain cleaning", "Furnace repair", "Leak repair"]
OPEN = ["new", "contacted", "qualified", "booked"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load(count: int) -> None:
    from django.utils import timezone

    from crm.models import Lead, Source
    from customers.models import Customer

    source, _ = Source.objects.get_or_create(slug="bench", defaults={"name": "Bench", "kind": "webhook"})
    have = Lead.objects.filter(source=source, state__in=OPEN).count()
    if have >= count:
        print(f"Data: {have:,} open bench leads present.")
        return
    customers = list(Customer.objects.active().values_list("pk", flat=True)[: count - have])
    if len(customers) < count - have:
        sys.exit("Not enough customers: run bench/customers_search.py first to load 100,000.")
    rng, now = random.Random(7), timezone.now()
    started = time.perf_counter()
    rows = [
        Lead(
            customer_id=pk,
            source=source,
            first_touch_source=source,
            state=rng.choice(OPEN),
            name=f"Bench lead {i}",
            phone=f"+1512555{i % 10000:04d}",
            service=rng.choice(SERVICES),
            arrived_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 30)),
            external_id=f"bench-{have + i}",
        )
        for i, pk in enumerate(customers)
    ]
    Lead.objects.bulk_create(rows, batch_size=2000)
    print(f"Loaded {len(rows):,} open leads in {time.perf_counter() - started:.1f} s.")


def measure(client, url: str, n: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        client.get(url)
    times, queries = [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return times, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from crm.models import Lead
    from users.models import User
    from users.services import user_create

    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL (set DATABASE_URL).")
    call_command("migrate", verbosity=0)
    load(args.leads)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_lead")
    user = User.objects.filter(username="bench-office").first() or user_create(
        username="bench-office", password="bench-pass-2026", role="office"
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    print(
        f"Open leads: {Lead.objects.open().count():,}; {args.requests} requests per page, in-process "
        f"(server time, no network). Load average {os.getloadavg()[0]:.2f}.\n"
    )
    print(f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'queries':>9}")
    results = {}
    for label, url in (
        ("board /leads/", "/leads/"),
        ("list /leads/list/", "/leads/list/"),
        ("list filtered (state+source+age)", "/leads/list/?state=new&source=&age=7d"),
        ("list search ?q=bench lead 12", "/leads/list/?q=bench+lead+12"),
    ):
        times, queries = measure(client, url, args.requests)
        results[label] = times
        print(
            f"{label:<34}{statistics.median(times):>9.1f}{percentile(times, 95):>9.1f}"
            f"{percentile(times, 99):>9.1f}{max(times):>9.1f}{queries:>9}"
        )
    p95 = percentile(results["board /leads/"], 95)
    print(f"\n{'PASS' if p95 < 150 else 'FAIL'}: board p95 {p95:.1f} ms (target < 150 ms)")
    sys.exit(0 if p95 < 150 else 1)


if __name__ == "__main__":
    main()

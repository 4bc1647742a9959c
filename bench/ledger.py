"""The ledger's reports on a million journal lines, and posting throughput.

    .venv/bin/python bench/ledger.py [--lines 1000000] [--runs 20] [--processes 4] [--posts 500]

Recreates its own PostgreSQL database (homeservice_bench_ledger), migrates (the default chart), and
bulk-loads (COPY, the balance trigger off for the load only, then VACUUM ANALYZE) three years of
balanced entries ending today: invoices issued (AR; service, equipment or materials revenue; sales tax at
8.25%), about 90% of them paid 0-90 days later (cash, check or card; AR), card fees and owner's draws,
for 5,000 customers, until `--lines` lines. Then, `--runs` times each (after 2 warm-ups): the trial
balance as of today, last calendar year's profit and loss (with the year before beside it), AR aging
as of today, the owner's dashboard for the year to date: p50 / p95 (target < 500 ms each). Then
`--processes` processes each post `--posts` entries through `finance.services.entry_post` with the
triggers on: entries per second. BENCH_LEDGER_DB names another database (two benches at once).
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = os.environ.get("BENCH_LEDGER_DB", "homeservice_bench_ledger")  # another name: two benches at once
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
CUSTOMERS = 5000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


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


def generate(target: int, today: date):
    """(entries, lines) as tuples for COPY; balanced entries over the three years before `today`."""
    from finance.models import Account

    acc = {a.role: a.pk for a in Account.objects.exclude(role=None)}
    rng = random.Random(15)
    start = today - timedelta(days=3 * 365)
    days = (today - start).days
    entries, lines = [], []
    invoice_no = 0
    cent = Decimal("0.01")

    def entry(day, memo, source, invoice_id=None, customer_id=None, tax=None):
        pk = len(entries) + 1
        entries.append((pk, day, memo, source, f"bench:{pk}", invoice_id, customer_id, tax))
        return pk

    def line(entry_id, role, debit, credit, customer_id=None, invoice_id=None):
        day = entries[entry_id - 1][1]
        lines.append((len(lines) + 1, entry_id, acc[role], day, debit, credit, customer_id, invoice_id))

    zero = Decimal("0.00")
    while len(lines) < target:
        roll = rng.random()
        day = start + timedelta(days=rng.randrange(days + 1))
        if roll < 0.05:
            e = entry(day, "Card processing fees", "manual")
            fee = Decimal(rng.randrange(500, 30000)).scaleb(-2)
            line(e, "card_fees", fee, zero)
            line(e, "bank", zero, fee)
            continue
        invoice_no += 1
        customer = rng.randrange(1, CUSTOMERS + 1)
        revenue = Decimal(rng.randrange(9000, 600000)).scaleb(-2)
        tax = (revenue * Decimal("0.0825")).quantize(cent)
        kind = rng.choice(["service_revenue", "service_revenue", "equipment_revenue", "material_revenue"])
        e = entry(day, f"Invoice INV-{invoice_no}", "invoice.issued", invoice_no, customer, Decimal("8.25"))
        line(e, "ar", revenue + tax, zero, customer, invoice_no)
        line(e, kind, zero, revenue, customer, invoice_no)
        line(e, "sales_tax", zero, tax, customer, invoice_no)
        paid_on = day + timedelta(days=int(rng.expovariate(1 / 20)))
        if rng.random() < 0.9 and paid_on <= today:
            method = rng.choice(["cash", "undeposited", "card_clearing", "card_clearing"])
            p = entry(paid_on, f"Payment on INV-{invoice_no}", "payment.received", invoice_no, customer)
            line(p, method, revenue + tax, zero, customer, invoice_no)
            line(p, "ar", zero, revenue + tax, customer, invoice_no)
    return entries, lines


def load(target: int, today: date) -> None:
    from django.db import connection

    from customers.models import Customer

    Customer.objects.bulk_create(
        Customer(first_name=f"Bench{i}", last_name="Customer", sort_name=f"customer bench{i}")
        for i in range(1, CUSTOMERS + 1)
    )
    started = time.perf_counter()
    entries, lines = generate(target, today)
    now = time.strftime("%Y-%m-%d %H:%M:%S+00")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE finance_journalline DISABLE TRIGGER USER")  # the load only
        raw = cursor.cursor
        with raw.copy(
            "COPY finance_journalentry (id, date, memo, source, idempotency_key, invoice_id, customer_id, "
            "tax_percent, posted_at) FROM STDIN"
        ) as copy:
            for row in entries:
                copy.write_row((*row, now))
        with raw.copy(
            "COPY finance_journalline (id, entry_id, account_id, date, debit, credit, customer_id, "
            "invoice_id) FROM STDIN"
        ) as copy:
            for row in lines:
                copy.write_row(row)
        cursor.execute("ALTER TABLE finance_journalline ENABLE TRIGGER USER")
        for table in ("finance_journalentry", "finance_journalline"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    print(f"loaded {len(entries):,} entries, {len(lines):,} lines in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE finance_journalentry")
        cursor.execute("VACUUM ANALYZE finance_journalline")
        cursor.execute("VACUUM ANALYZE customers_customer")
    print(f"VACUUM ANALYZE {time.perf_counter() - started:.1f} s")


def timed(label: str, call, runs: int) -> float:
    for _ in range(2):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    p50, p95 = statistics.median(times), percentile(times, 95)
    verdict = "PASS" if p95 < 500 else "FAIL"
    print(f"{label:<34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {verdict}")
    return p95


def reports_bench(runs: int, today: date) -> bool:
    from finance import reports

    last_year = today.year - 1
    tb = reports.trial_balance(as_of=today)
    assert tb.debits == tb.credits
    aging = reports.ar_aging(as_of=today)
    ar = next(r for r in tb.rows if r.account.role == "ar")
    assert aging.total == ar.balance, (aging.total, ar.balance)
    print(
        f"trial balance {tb.debits:,} each side; AR {ar.balance:,} = aging total, {len(aging.rows)} customers"
    )
    worst = [
        timed("trial balance (as of today)", lambda: reports.trial_balance(as_of=today), runs),
        timed(
            f"profit and loss {last_year} (+ {last_year - 1})",
            lambda: reports.profit_and_loss(start=date(last_year, 1, 1), end=date(last_year, 12, 31)),
            runs,
        ),
        timed("AR aging (as of today)", lambda: reports.ar_aging(as_of=today), runs),
        timed("balance sheet (as of today)", lambda: reports.balance_sheet(as_of=today), runs),
    ]
    return all(p95 < 500 for p95 in worst)


def dashboard_bench(runs: int, today: date) -> bool:
    """The owner's dashboard for the year to date (and the same length before it): its money cards read
    the ledger (posted revenue, tickets, revenue by day and by job, cash collected, AR owed and overdue)."""
    from config.dashboard import owner_dashboard, period_for
    from users.models import Business

    period, tz = period_for("ytd", today), Business.current().tzinfo
    cards = owner_dashboard(period, tz)
    print("dashboard (year to date): " + ", ".join(f"{f.label} {f.value}" for f in cards["cash"].figures))
    return timed("owner dashboard (year to date)", lambda: owner_dashboard(period, tz), runs) < 500


def poster(args) -> tuple[int, float]:
    worker, posts, run = args
    django_setup()
    from django.db import connection

    from finance.services import EntryIn, LineIn, entry_post, today

    connection.close()
    day, rng = today(), random.Random(worker)
    started = time.perf_counter()
    for n in range(posts):
        amount = Decimal(rng.randrange(1000, 90000)).scaleb(-2)
        tax = (amount * Decimal("0.0825")).quantize(Decimal("0.01"))
        entry_post(
            EntryIn(
                date=day,
                memo=f"Bench post {worker}-{n}",
                source="bench",
                key=f"bench-post:{run}:{worker}:{n}",
                lines=[
                    LineIn("ar", debit=amount + tax, customer_id=1, invoice_id=10_000_000 + n),
                    LineIn("service_revenue", credit=amount),
                    LineIn("sales_tax", credit=tax),
                ],
            )
        )
    return posts, time.perf_counter() - started


def posting_bench(processes: int, posts: int) -> None:
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(processes) as pool:
        results = pool.map(poster, [(w, posts, int(time.time())) for w in range(processes)])
    wall = time.perf_counter() - started
    total = sum(n for n, _ in results)
    slowest = max(t for _, t in results)
    print(
        f"posting: {total} entries from {processes} processes in {slowest:.1f} s (posting time of the "
        f"slowest) = {total / slowest:.0f} entries/s; wall with process start {wall:.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    args = parser.parse_args()
    if not args.reuse:
        recreate()
    django_setup()
    from django.core.management import call_command

    from finance.services import today

    if not args.reuse:
        call_command("migrate", verbosity=0)
        from users.models import Business

        Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago")
        load(args.lines, today())
    ok = reports_bench(args.runs, today())
    ok = dashboard_bench(args.runs, today()) and ok
    posting_bench(args.processes, args.posts)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM finance_journalentry e WHERE (SELECT sum(debit) - sum(credit) "
            "FROM finance_journalline l WHERE l.entry_id = e.id) <> 0"
        )
        unbalanced = cursor.fetchone()[0]
    print(f"unbalanced entries after the run: {unbalanced}")
    return 0 if ok and unbalanced == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

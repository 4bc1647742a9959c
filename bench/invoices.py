"""Invoices under load, a 50-line PDF, and the public estimate page.

    .venv/bin/python bench/invoices.py [--invoices 10000] [--processes 4] [--pdf-runs 40] [--page-runs 200]

Recreates its own PostgreSQL database (homeservice_bench_invoices), a business with a default tax rate and
200 customers. Then:

1. Issue and pay: `--invoices` draft invoices (1-3 lines each, written in bulk: the set-up, not timed),
   then `--processes` processes, each issuing its share through `fsm.invoices.services.invoice_issue` and
   recording a full payment through `payment_record`, interleaved so that all of them contend for the
   series' number at once. Prints issues and payments per second and the p50/p99 of each call, then
   checks that the numbers are unique and gapless (1..N in the year's series) and every invoice is paid.
2. PDF: a 50-line invoice rendered `--pdf-runs` times (p50/p95; target p95 < 500 ms), fsm.documents.pdf.
3. The public estimate page /e/<token>/ (3 options x 6 lines, add-ons) through Django's test client,
   `--page-runs` times: p50/p95 (target p95 < 100 ms) and the queries per page (constant).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "homeservice_bench_invoices"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"


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
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
    )
    import django

    django.setup()


def recreate() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup(count: int) -> list[int]:
    """The business, 200 customers and `count` draft invoices with their lines, in bulk."""
    from decimal import Decimal

    from django.core.management import call_command

    from common import money
    from customers import services as customer_services
    from fsm.invoices.models import Invoice, InvoiceLine
    from users.models import Business, TaxRate

    call_command("migrate", verbosity=0)
    Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago")
    TaxRate.objects.create(name="Austin", percent=Decimal("8.25"), is_default=True)
    customers = [
        customer_services.customer_create(
            actor=None,
            first_name=f"Bench{i}",
            last_name="Customer",
            phones=[customer_services.PhoneIn(number=f"+1737555{2000 + i:04d}")],
            properties=[
                customer_services.PropertyIn(
                    street=f"{100 + i} Stanton St", city="Austin", state="TX", zip_code="78704"
                )
            ],
        )
        for i in range(200)
    ]
    drafts = Invoice.objects.bulk_create(
        Invoice(customer=customers[i % len(customers)], tax_percent=Decimal("8.25")) for i in range(count)
    )
    lines, prices = [], [Decimal("89.00"), Decimal("185.00"), Decimal("240.00"), Decimal("1895.00")]
    for i, invoice in enumerate(drafts):
        priced = [
            money.Line(quantity=Decimal(1), unit_price=prices[(i + k) % 4], taxable=k % 2 == 0)
            for k in range(1 + i % 3)
        ]
        totals = money.totals(priced, tax_percent=invoice.tax_percent)
        invoice.subtotal, invoice.tax, invoice.total = totals.subtotal, totals.tax, totals.total
        lines += [
            InvoiceLine(
                invoice=invoice,
                position=k,
                name=f"Work {k}",
                unit_price=p.unit_price,
                quantity=p.quantity,
                taxable=p.taxable,
                amount=p.amount,
            )
            for k, p in enumerate(priced)
        ]
    InvoiceLine.objects.bulk_create(lines, batch_size=5000)
    Invoice.objects.bulk_update(drafts, ["subtotal", "tax", "total"], batch_size=5000)
    return [invoice.pk for invoice in drafts]


def worker(pks: list[int], queue) -> None:
    """One process: issue and pay each of its invoices; report the calls' durations."""
    django_setup()
    from fsm.invoices import services
    from fsm.invoices.models import Invoice

    issue_ms, pay_ms = [], []
    for pk in pks:
        invoice = Invoice.objects.get(pk=pk)
        started = time.perf_counter()
        invoice = services.invoice_issue(invoice=invoice, actor=None)
        issue_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        services.payment_record(invoice=invoice, actor=None, method="cash", amount=invoice.total)
        pay_ms.append((time.perf_counter() - started) * 1000)
    queue.put((issue_ms, pay_ms))


def issue_and_pay(pks: list[int], processes: int) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    shares = [pks[i::processes] for i in range(processes)]
    started = time.perf_counter()
    procs = [context.Process(target=worker, args=(share, queue)) for share in shares]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    issue_ms = [ms for r in results for ms in r[0]]
    pay_ms = [ms for r in results for ms in r[1]]
    print(
        f"issue + pay {len(pks)} invoices from {processes} processes in {elapsed:.1f} s "
        "(processes' start-up included)"
    )
    print(f"  {len(pks) / elapsed:.0f} invoices issued and paid per second")
    for name, values in (("issue", issue_ms), ("payment", pay_ms)):
        print(f"  {name:8} p50 {statistics.median(values):6.1f} ms  p99 {percentile(values, 99):6.1f} ms")

    from fsm.invoices.models import Invoice

    numbers = list(Invoice.objects.values_list("number", flat=True))
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n)
    gapless = serials == list(range(1, len(pks) + 1))
    unique = len(set(numbers)) == len(numbers)
    paid = Invoice.objects.filter(state="paid").count()
    print(f"  numbers: {len(serials)} issued, unique {unique}, gapless 1..{len(pks)} {gapless}; {paid} paid")
    print(f"{'PASS' if gapless and unique and paid == len(pks) else 'FAIL'}: numbering and payments")


def pdf(runs: int) -> None:
    from customers.models import Customer
    from fsm.documents.lines import LineIn
    from fsm.documents.pdf import invoice_pdf
    from fsm.invoices import services

    invoice = services.invoice_create(customer=Customer.objects.first(), actor=None)
    for i in range(50):
        services.invoice_line_add(
            invoice=invoice,
            actor=None,
            line=LineIn(
                name=f"Part {i} of the repair", description="Labour and parts", unit_price=f"{20 + i}.50"
            ),
        )
    invoice = services.invoice_issue(invoice=invoice, actor=None)
    invoice_pdf(invoice)  # warm-up: fonts, templates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        data = invoice_pdf(invoice)
        times.append((time.perf_counter() - started) * 1000)
    p95 = percentile(times, 95)
    print(
        f"PDF of a 50-line invoice ({len(data):,} bytes): "
        f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms"
    )
    print(f"{'PASS' if p95 < 500 else 'FAIL'}: PDF p95 {p95:.0f} ms < 500 ms")


def public_page(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from customers.models import Customer
    from fsm.documents.lines import LineIn
    from fsm.estimates import services

    customer = Customer.objects.first()
    estimate = services.estimate_create(
        customer=customer,
        property=customer.properties.first(),
        actor=None,
        title="Water heater",
        option_names=("Good", "Better", "Best"),
    )
    for option in estimate.options.all():
        for i in range(6):
            services.line_add(
                option=option,
                actor=None,
                line=LineIn(name=f"Line {i}", unit_price=f"{100 + i}", is_addon=i == 5),
            )
    estimate = services.estimate_present(estimate=estimate, actor=None)
    client = Client()
    url = f"/e/{estimate.public_token}/"
    client.get(url)  # the first view marks it viewed (a write)
    counts, times = set(), []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        counts.add(len(queries))
    p95 = percentile(times, 95)
    print(
        f"public estimate page: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
        f"queries per page {sorted(counts)}"
    )
    print(
        f"{'PASS' if p95 < 100 and len(counts) == 1 else 'FAIL'}: "
        f"page p95 {p95:.1f} ms < 100 ms, constant queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--pdf-runs", type=int, default=40)
    parser.add_argument("--page-runs", type=int, default=200)
    args = parser.parse_args()
    recreate()
    django_setup()
    started = time.perf_counter()
    pks = setup(args.invoices)
    print(
        f"set-up: {len(pks)} draft invoices in {time.perf_counter() - started:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    from django.db import connection

    connection.close()  # the workers open their own
    issue_and_pay(pks, args.processes)
    pdf(args.pdf_runs)
    public_page(args.page_runs)


if __name__ == "__main__":
    main()

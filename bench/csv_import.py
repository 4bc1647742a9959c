"""CSV import benchmark: a realistic 50,000-row customer export imported through the real service.

Run from the repository root:

    .venv/bin/python bench/csv_import.py [--rows 50000] [--seed 7] [--check] [--keep]

It uses DATABASE_URL, defaulting to a dedicated database (created if missing):
postgres://postgres@127.0.0.1:5432/homeservice_bench_import. Before the run it empties that database's
customers, leads, imports and events (it refuses to on a database whose name does not start with
"homeservice_bench"; --keep skips the emptying). Target: the import in under 120 s.

The file looks like a Jobber/Housecall Pro export of an Austin, TX plumbing and HVAC company: seeded Faker
names, 512/737 numbers typed five different ways, 65% with an e-mail, one service address, the last job's
date and total for 70%, and the usual mess: ~1% bad phone numbers, ~0.5% bad e-mails, ~1% rows exported
twice, ~0.5% a second row for the same person (same phone, another e-mail), blank lines, unknown columns.
The import runs the way the worker runs it: import_upload, import_map, import_start (the Celery task
eager), import_run. Then the same file is imported again: it must create nothing.
"""

import argparse
import csv
import io
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/homeservice_bench_import"
TARGET_SECONDS = 120.0
USERNAME = "bench-office"
HEADERS = [
    "Customer ID",
    "Display Name",
    "First Name",
    "Last Name",
    "Company Name",
    "Mobile Phone",
    "Home Phone",
    "Email",
    "Service Street",
    "Service Street 2",
    "Service City",
    "Service State",
    "Service Zip Code",
    "Last Job Date",
    "Job Total",
    "Tags",
    "Notes",
    "Balance",
    "Created Date",
]
CITIES = {
    "Austin": ["78701", "78702", "78703", "78704", "78745", "78748", "78749", "78750", "78757", "78758"],
    "Cedar Park": ["78613"],
    "Pflugerville": ["78660"],
    "Round Rock": ["78664", "78665", "78681"],
    "Georgetown": ["78626", "78628"],
}
CITY_WEIGHTS = {"Austin": 6, "Cedar Park": 1, "Pflugerville": 1, "Round Rock": 2, "Georgetown": 1}
SUFFIXES = ["Dr", "Ln", "St", "Ave", "Cv", "Trl", "Blvd", "Ct", "Way", "Pass", "Rd", "Loop", "Cir"]
PHONE_FORMATS = ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "{a}{b}{c}"]
TAGS = ["", "", "", "", "VIP", "Maintenance plan", "Warranty", "Rental owner", "Net 30", "Angi"]
NOTES = ["", "", "", "", "", "", "", "", "Gate code 4412", "Dog in backyard", "Side door, ring twice"]
JOBS = ["Water heater install", "AC repair", "Drain cleaning", "Furnace tune-up", "Leak repair", ""]


# --- Database selection / creation (before Django is set up) ---------------------------------------


def prepare_database() -> dict:
    """Point DATABASE_URL at PostgreSQL, creating the database if needed; refuse anything else."""
    import environ
    import psycopg
    from psycopg import sql

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"Refusing to run: DATABASE_URL points at {config['ENGINE']!r}, not PostgreSQL.")
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    params = {k: v for k, v in params.items() if v}
    name = config["NAME"]
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **params) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}.")
    except psycopg.OperationalError as exc:
        sys.exit(f"Cannot reach PostgreSQL for {name!r}: {exc}")
    return config


def empty_tables(name: str) -> None:
    """Start from no customers, so that the first import creates them all."""
    from django.db import connection

    if not name.startswith("homeservice_bench"):
        sys.exit(
            f"Refusing to empty {name!r}: not a benchmark database. Use --keep, or another DATABASE_URL."
        )
    tables = [
        "customers_customer",
        "crm_importjob",
        "crm_importrowkey",
        "crm_pastjob",
        "events_event",
        "events_eventlink",
        "events_delivery",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


# --- The file --------------------------------------------------------------------------------------


class Generator:
    """Seeded customers of an Austin company, written the way exports write them."""

    def __init__(self, seed: int):
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.first_names = [fake.first_name() for _ in range(3_000)]
        self.last_names = [fake.last_name() for _ in range(5_000)]
        self.companies = [fake.company() for _ in range(1_500)]
        self.domains = [fake.free_email_domain() for _ in range(100)]
        self.cities = [c for c, w in CITY_WEIGHTS.items() for _ in range(w)]
        self.used: set[str] = set()
        self.valid_prefix: dict[str, bool] = {}

    def digits(self) -> str:
        """A unique, valid 512/737 number's 10 digits (exchange 200-989, never 555 or N11)."""
        import phonenumbers

        rng = self.rng
        while True:
            exchange = rng.randint(200, 989)
            if exchange == 555 or exchange % 100 == 11:
                continue
            prefix = f"{rng.choice(['512', '512', '512', '737'])}{exchange}"
            number = f"{prefix}{rng.randint(0, 9999):04d}"
            if number in self.used:
                continue
            if prefix not in self.valid_prefix:
                parsed = phonenumbers.parse(f"+1{number}")
                self.valid_prefix[prefix] = phonenumbers.is_valid_number(parsed)
            if self.valid_prefix[prefix]:
                self.used.add(number)
                return number

    def phone(self) -> str:
        d = self.digits()
        return self.rng.choice(PHONE_FORMATS).format(a=d[:3], b=d[3:6], c=d[6:])

    def row(self, n: int) -> list[str]:
        rng = self.rng
        commercial = rng.random() < 0.1
        first, last = rng.choice(self.first_names), rng.choice(self.last_names)
        company = rng.choice(self.companies) if commercial else ""
        if commercial and rng.random() < 0.5:
            first = last = ""
        local = re.sub(r"[^a-z0-9.]", "", f"{first or 'office'}.{last or n}".lower())
        email = f"{local}{rng.randint(1, 99)}@{rng.choice(self.domains)}" if rng.random() < 0.65 else ""
        city = rng.choice(self.cities)
        job = rng.random() < 0.7
        return [
            f"C-{n:06d}",
            company or f"{first} {last}",
            first,
            last,
            company,
            self.phone(),
            self.phone() if rng.random() < 0.15 else "",
            email,
            f"{rng.randint(100, 19999)} {rng.choice(self.last_names)} {rng.choice(SUFFIXES)}",
            f"Apt {rng.randint(100, 2400)}" if rng.random() < 0.1 else "",
            city,
            rng.choice(["TX", "TX", "TX", "Texas", "tx"]),
            rng.choice(CITIES[city]),
            f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(2019, 2025)}" if job else "",
            f"${rng.randint(89, 14_000):,}.{rng.randint(0, 99):02d}" if job else "",
            rng.choice(TAGS),
            rng.choice(NOTES) or (rng.choice(JOBS) if job else ""),
            "0.00",
            f"{rng.randint(2012, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        ]

    def mess(self, row: list[str]) -> list[str]:
        """About 1% bad phone numbers and 0.5% bad e-mails, as real exports have."""
        roll = self.rng.random()
        if roll < 0.01:
            row[5] = self.rng.choice(["555-12", "n/a", "512-000-000", "call office"])
        elif roll < 0.015 and row[7]:
            row[7] = row[7].replace("@", " at ")
        return row


def make_csv(rows: int, seed: int) -> bytes:
    gen = Generator(seed)
    lines: list[list[str]] = []
    n = 0
    while len(lines) < rows:
        roll = gen.rng.random()
        if lines and roll < 0.01:  # the same row exported twice
            lines.append(list(gen.rng.choice(lines)))
        elif lines and roll < 0.015:  # a second row for the same person: same phone, another e-mail
            twin = list(gen.rng.choice(lines))
            twin[0], twin[7] = f"C-{n:06d}", f"second{n}@{gen.rng.choice(gen.domains)}"
            lines.append(twin)
        else:
            lines.append(gen.mess(gen.row(n)))
        n += 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for i, line in enumerate(lines):
        writer.writerow(line)
        if i % 400 == 399:
            writer.writerow([""] * len(HEADERS))  # a blank line now and then
    return buffer.getvalue().encode("utf-8-sig")


# --- The run ---------------------------------------------------------------------------------------


def bench_user():
    from users.models import User
    from users.roles import Role
    from users.services import user_create

    user = User.objects.filter(username=USERNAME).first()
    return user or user_create(
        username=USERNAME,
        password=f"bench-{random.SystemRandom().getrandbits(64):x}",
        role=Role.OFFICE,
        first_name="Bench",
        last_name="Office",
    )


def import_file(data: bytes, user, *, check: bool) -> tuple[object, dict[str, float]]:
    """upload -> map -> (check) -> start; the eager task runs import_run at commit, as a worker would."""
    from crm.imports import services

    times = {}
    started = time.perf_counter()
    job = services.import_upload(kind="customers", data=data, original_name="jobber-clients.csv", actor=user)
    job = services.import_map(job=job, mapping=job.mapping, actor=user)
    times["upload"] = time.perf_counter() - started
    if check:
        t = time.perf_counter()
        services.import_check(job=job, actor=user)
        times["check"] = time.perf_counter() - t
        job.refresh_from_db()
        print(f"  dry run: {job.summary['dry_run']}")
    t = time.perf_counter()
    services.import_start(job=job, actor=user)
    times["import"] = time.perf_counter() - t
    job.refresh_from_db()
    return job, times


def report(job, times: dict[str, float], label: str) -> float:
    total = times["upload"] + times["import"]
    rate = job.total_rows / times["import"] if times["import"] else 0
    print(
        f"{label}: {job.total_rows:,} rows, status {job.status}; upload+parse {times['upload']:.1f} s, "
        f"import {times['import']:.1f} s ({rate:,.0f} rows/s), total {total:.1f} s"
        + (f"; dry run {times['check']:.1f} s" if "check" in times else "")
    )
    print(
        f"  created {job.created_count:,}, merged {job.updated_count:,}, skipped {job.skipped_count:,}, "
        f"not imported {job.error_count:,}, with values left out {job.summary.get('warnings', 0):,}"
    )
    return total


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000, help="data rows in the file (50000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the data (7)")
    parser.add_argument("--check", action="store_true", help="also time the dry run before the import")
    parser.add_argument("--keep", action="store_true", help="do not empty the database first")
    parser.add_argument("--save", metavar="PATH", help="also write the generated CSV here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = prepare_database()
    media = tempfile.TemporaryDirectory(prefix="bench-import-media-")  # the uploaded files and reports
    os.environ["MEDIA_ROOT"] = media.name
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.celery import app
    from customers.models import Customer

    if connection.vendor != "postgresql":
        sys.exit(f"Refusing to run on {connection.vendor}; the benchmark needs PostgreSQL.")
    app.conf.task_always_eager = True  # the task runs here, at commit, instead of on a worker
    app.conf.task_eager_propagates = True
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"Database: {config['NAME']} (PostgreSQL {version}); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"Migrate: {time.perf_counter() - t:.1f} s")
    if not args.keep:
        empty_tables(config["NAME"])

    t = time.perf_counter()
    data = make_csv(args.rows, args.seed)
    print(
        f"File: {args.rows:,} rows, {len(data) / 1024 / 1024:.1f} MB, "
        f"generated in {time.perf_counter() - t:.1f} s"
    )
    if args.save:
        Path(args.save).write_bytes(data)
    user = bench_user()

    before = Customer.objects.count()
    job, times = import_file(data, user, check=args.check)
    total = report(job, times, "First import")
    made = Customer.objects.count() - before
    verdict = "PASS" if total < TARGET_SECONDS and job.status == "done" else "FAIL"
    print(
        f"  {made:,} customers in the database now; "
        f"{verdict}: {total:.1f} s against the {TARGET_SECONDS:.0f} s target"
    )

    before = Customer.objects.count()
    again, times = import_file(data, user, check=False)
    report(again, times, "Same file again")
    made_again = Customer.objects.count() - before
    print(f"  created {again.created_count} customers ({made_again} new rows in customers_customer)")
    media.cleanup()
    sys.exit(0 if verdict == "PASS" and made_again == 0 and again.created_count == 0 else 1)


if __name__ == "__main__":
    main()

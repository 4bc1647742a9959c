"""Customer search benchmark: load ~100k realistic customers into PostgreSQL and time the list page's search.

Run from the repository root:

    .venv/bin/python bench/customers_search.py [--customers 100000] [--searches 200] [--explain]

It uses DATABASE_URL, defaulting to a dedicated database (created if missing):
postgres://postgres@127.0.0.1:5432/homeservice_bench. See bench/README.md.
"""

import argparse
import math
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/homeservice_bench"
PAGE_SIZE = 25  # customers.views.PAGE_SIZE
BATCH = 5_000
OWNER_USERNAME = "bench-owner"
KINDS = ("phone", "name", "street")

# Austin metro: city -> ZIP codes (same as customers/demo.py).
CITIES = {
    "Austin": ["78701", "78702", "78703", "78704", "78745", "78748", "78749", "78750", "78757", "78758", "78759"],
    "Cedar Park": ["78613"],
    "Pflugerville": ["78660"],
    "Round Rock": ["78664", "78665", "78681"],
    "Georgetown": ["78626", "78628"],
}
CITY_WEIGHTS = {"Austin": 6, "Cedar Park": 1, "Pflugerville": 1, "Round Rock": 2, "Georgetown": 1}
AREA_CODES = ["512", "512", "512", "737"]
SUFFIXES = ["Dr", "Ln", "St", "Ave", "Cv", "Trl", "Blvd", "Ct", "Way", "Pass", "Rd", "Loop", "Cir", "Pl"]
AUSTIN_STREETS = [
    "N Lamar Blvd", "S Lamar Blvd", "Burnet Rd", "S Congress Ave", "E Riverside Dr", "W Slaughter Ln",
    "William Cannon Dr", "W Parmer Ln", "Anderson Mill Rd", "Stassney Ln", "Manchaca Rd", "Brodie Ln",
    "Spicewood Springs Rd", "Duval Rd", "Metric Blvd", "E Oltorf St", "Menchaca Rd", "Pleasant Valley Rd",
    "Cameron Rd", "Rundberg Ln", "Far West Blvd", "Mesa Dr", "Great Hills Trl", "Wells Branch Pkwy",
    "Gattis School Rd", "Sam Bass Rd", "Whitestone Blvd", "Williams Dr", "Pecan St", "Kelly Ln",
]
UNITS = ["Apt {n}", "Unit {n}", "#{n}", "Ste {n}"]


# --- Database selection / creation (before Django is set up) ---------------------------------------


def prepare_database() -> dict:
    """Point DATABASE_URL at PostgreSQL, creating the database if needed; refuse anything else."""
    import environ
    import psycopg
    from psycopg import sql

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(
            f"Refusing to run: DATABASE_URL points at {config['ENGINE']!r}, not PostgreSQL. "
            f"The benchmark measures the pg_trgm indexes; unset DATABASE_URL to use {DEFAULT_DATABASE_URL}"
        )
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
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}.")
    except psycopg.OperationalError as exc:
        sys.exit(f"Cannot reach PostgreSQL for {name!r}: {exc}")
    return config


# --- Data generation -------------------------------------------------------------------------------


class Generator:
    """Seeded, fast generation of realistic Austin-metro customers.

    Faker's weighted name providers are slow (~40 us a call), so names and company names are drawn once
    into pools from a seeded Faker and then picked with a seeded Random: the distribution stays realistic.
    """

    def __init__(self, seed: int, used_phones: set[str]):
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.first_names = [fake.first_name() for _ in range(5_000)]
        self.last_names = [fake.last_name() for _ in range(8_000)]
        self.companies = [fake.company() for _ in range(2_000)]
        self.domains = [fake.free_email_domain() for _ in range(200)]
        self.cities = [c for c, w in CITY_WEIGHTS.items() for _ in range(w)]
        self.used_phones = used_phones
        self._valid_prefix: dict[str, bool] = {}

    def phone(self) -> str:
        """A unique, valid 512/737 number in E.164 (exchange 200-989, never 555 or N11)."""
        import phonenumbers

        rng = self.rng
        while True:
            exchange = rng.randint(200, 989)
            if exchange == 555 or exchange % 100 == 11:
                continue
            prefix = f"+1{rng.choice(AREA_CODES)}{exchange}"
            number = f"{prefix}{rng.randint(0, 9999):04d}"
            if number in self.used_phones:
                continue
            valid = self._valid_prefix.get(prefix)
            if valid is None:  # NANP validity depends on NPA-NXX only; check once per prefix
                valid = phonenumbers.is_valid_number(phonenumbers.parse(number))
                self._valid_prefix[prefix] = valid
            if valid:
                self.used_phones.add(number)
                return number

    def street(self) -> str:
        rng = self.rng
        if rng.random() < 0.12:
            name = rng.choice(AUSTIN_STREETS)
        else:
            name = f"{rng.choice(self.last_names)} {rng.choice(SUFFIXES)}"
        return f"{rng.randint(100, 19999)} {name}"

    def customer(self) -> dict:
        rng = self.rng
        commercial = rng.random() < 0.1
        first, last = rng.choice(self.first_names), rng.choice(self.last_names)
        phones = [(self.phone(), "mobile", True)]
        if rng.random() < 0.2:
            phones.append((self.phone(), rng.choice(["home", "work"]), False))
        emails = []
        if rng.random() < 0.65:
            local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
            emails.append(f"{local}{rng.randint(1, 99)}@{rng.choice(self.domains)}")
        city = rng.choice(self.cities)
        prop = {
            "label": "Office" if commercial else "Home",
            "street": self.street(),
            "unit": rng.choice(UNITS).format(n=rng.randint(100, 2400)) if rng.random() < 0.1 else "",
            "city": city,
            "state": "TX",
            "zip_code": rng.choice(CITIES[city]),
            "access_notes": rng.choice(["", "", "", "", "Gate code 4412", "Dog in backyard", "Side door"]),
        }
        return {
            "kind": "commercial" if commercial else "residential",
            "first_name": first,
            "last_name": last,
            "company_name": rng.choice(self.companies) if commercial else "",
            "phones": phones,
            "emails": emails,
            "property": prop,
        }


def load_customers(target: int, seed: int) -> None:
    """Top the table up to `target` active customers with bulk inserts (no services, so no events)."""
    from django.db import connection, transaction

    from customers.models import Customer, EmailAddress, PhoneNumber, Property
    from customers.services import search_columns

    existing = Customer.objects.active().count()
    missing = target - existing
    if missing <= 0:
        print(f"Data: {existing:,} active customers present (target {target:,}); no load needed.")
        return
    print(f"Data: {existing:,} active customers present; loading {missing:,} more ...", flush=True)
    started = time.perf_counter()
    used = {str(n) for n in PhoneNumber.objects.values_list("number", flat=True)}
    gen = Generator(seed * 1_000_003 + existing, used)
    done = 0
    while done < missing:
        size = min(BATCH, missing - done)
        rows = [gen.customer() for _ in range(size)]
        customers = []
        for r in rows:
            p = r["property"]
            columns = search_columns(
                first_name=r["first_name"],
                last_name=r["last_name"],
                company_name=r["company_name"],
                phones=[number for number, _, _ in r["phones"]],
                emails=r["emails"],
                # Same address string as customers.services.customer_refresh_search.
                addresses=[f"{p['street']} {p['unit']} {p['city']} {p['zip_code']}"],
            )
            customers.append(
                Customer(
                    kind=r["kind"],
                    first_name=r["first_name"],
                    last_name=r["last_name"],
                    company_name=r["company_name"],
                    **columns,
                )
            )
        with transaction.atomic():
            Customer.objects.bulk_create(customers, batch_size=BATCH)
            phones, emails, props = [], [], []
            for customer, r in zip(customers, rows, strict=True):
                for number, kind, primary in r["phones"]:
                    phones.append(PhoneNumber(customer=customer, number=number, kind=kind, is_primary=primary))
                for i, email in enumerate(r["emails"]):
                    emails.append(EmailAddress(customer=customer, email=email, is_primary=i == 0))
                props.append(Property(customer=customer, is_primary=True, **r["property"]))
            PhoneNumber.objects.bulk_create(phones, batch_size=BATCH)
            EmailAddress.objects.bulk_create(emails, batch_size=BATCH)
            Property.objects.bulk_create(props, batch_size=BATCH)
        done += size
        print(f"  {existing + done:>9,} customers  ({time.perf_counter() - started:5.1f} s)", flush=True)
    with connection.cursor() as cursor:
        for table in (Customer, PhoneNumber, EmailAddress, Property):
            cursor.execute(f"ANALYZE {table._meta.db_table}")
    print(f"Load: {missing:,} customers in {time.perf_counter() - started:.1f} s (including ANALYZE).")


def bench_owner():
    from users.models import User
    from users.roles import Role
    from users.services import user_create

    user = User.objects.filter(username=OWNER_USERNAME).first()
    if user is None:
        user = user_create(
            username=OWNER_USERNAME,
            password=f"bench-{random.SystemRandom().getrandbits(64):x}",
            role=Role.OWNER,
            first_name="Bench",
            last_name="Owner",
        )
    if not user.has_role(Role.OWNER):
        sys.exit(f"User {OWNER_USERNAME!r} exists but does not have the owner role.")
    return user


# --- Queries ---------------------------------------------------------------------------------------


def make_queries(n: int, seed: int) -> dict[str, list[str]]:
    """n queries of each kind, picked from the loaded data with a seeded RNG, typed the way people type."""
    from customers.models import Customer, PhoneNumber, Property

    rng = random.Random(seed)
    phones = [
        str(p)[2:]  # national 10 digits of +1NXXNXXXXXX
        for p in PhoneNumber.objects.filter(customer__merged_into__isnull=True)
        .order_by("pk")
        .values_list("number", flat=True)
    ]
    names = list(
        Customer.objects.active().exclude(last_name="").order_by("pk").values_list("first_name", "last_name")
    )
    streets = list(
        Property.objects.filter(customer__merged_into__isnull=True).order_by("pk").values_list("street", flat=True)
    )
    if not (phones and names and streets):
        sys.exit("No customers to search; load data first.")

    def phone_query() -> str:
        digits = rng.choice(phones)
        length = rng.randint(4, 7)
        start = rng.choice([0, 0, 3, 3, rng.randint(0, 10 - length)])
        start = min(start, 10 - length)
        part = digits[start : start + length]
        if start == 0:  # starts with the area code
            area, rest = part[:3], part[3:]
            return rng.choice([f"{area}-{rest}", f"({area}) {rest}", f"{area}.{rest}", f"{area} {rest}", part])
        if start == 3 and length > 3:  # starts with the exchange
            return rng.choice([f"{part[:3]}-{part[3:]}", part])
        return part

    def fragment(word: str, lo: int = 3, hi: int = 6) -> str:
        word = re.sub(r"[^A-Za-z]", "", word)
        length = min(len(word), rng.randint(lo, hi))
        start = 0 if rng.random() < 0.7 else rng.randint(0, len(word) - length)  # mostly prefixes
        return word[start : start + length]

    def name_query() -> str:
        first, last = rng.choice(names)
        r = rng.random()
        if r < 0.45:
            q = fragment(last)
        elif r < 0.7:
            q = fragment(first)
        elif r < 0.85:
            q = f"{first} {last}"
        else:
            q = f"{first} {fragment(last, 2, 4)}"
        return q.lower() if rng.random() < 0.5 else q

    def street_query() -> str:
        number, *words = rng.choice(streets).split()
        words = [w for w in words if len(w) > 2] or words
        r = rng.random()
        if r < 0.5:
            return f"{number} {words[0]}"
        if r < 0.8:
            return fragment(rng.choice(words), 4, 7)
        return " ".join(words[:2])

    makers = {"phone": phone_query, "name": name_query, "street": street_query}
    return {kind: [makers[kind]() for _ in range(n)] for kind in KINDS}


def run_search(owner, query: str) -> tuple[float, float, int, int, list[str]]:
    """One list-page search the way customers.views.customer_list evaluates it (Paginator: count, then page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.selectors import customer_list

    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        qs = customer_list(user=owner, query=query)
        total = qs.count()
        t1 = time.perf_counter()
        page = list(qs[:PAGE_SIZE])
        t2 = time.perf_counter()
    assert len(page) == min(total, PAGE_SIZE), (query, total, len(page))
    return (t2 - t0) * 1000, (t1 - t0) * 1000, total, len(ctx.captured_queries), [q["sql"] for q in ctx]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def explain(owner, kind: str, query: str) -> None:
    from django.db import connection

    _, _, total, _, sqls = run_search(owner, query)
    print(f"\n=== EXPLAIN ANALYZE  kind={kind}  q={query!r}  ({total:,} matches) ===")
    for sql in sqls:
        if sql.lstrip().upper().startswith("SELECT") and (
            "COUNT(" in sql.upper() or f"LIMIT {PAGE_SIZE}" in sql.upper()
        ):
            label = "count" if "COUNT(" in sql.upper() else "page"
            print(f"\n-- {label} query:\n{sql}\n")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="active customers to have (default 100000)")
    parser.add_argument("--searches", type=int, default=200, help="timed searches per kind (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up searches (default 20)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--target-p99", type=float, default=50.0, help="p99 target in ms (default 50)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE for one query of each kind")
    parser.add_argument("--show-slowest", type=int, default=5, help="list the N slowest searches (default 5)")
    args = parser.parse_args()

    config = prepare_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"Refusing to run on {connection.vendor}; the benchmark needs PostgreSQL.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"Database: {config['NAME']} on {config.get('HOST') or 'local socket'} (PostgreSQL {version})")

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"Migrate: {time.perf_counter() - t:.1f} s")
    load_customers(args.customers, args.seed)
    owner = bench_owner()

    queries = make_queries(args.searches, args.seed)
    warm_rng = random.Random(args.seed + 1)
    for _ in range(args.warmup):
        kind = warm_rng.choice(KINDS)
        run_search(owner, warm_rng.choice(queries[kind]))

    # Interleave the kinds so that cache state and background noise affect them alike.
    plan = [(kind, q) for i in range(args.searches) for kind, q in ((k, queries[k][i]) for k in KINDS)]
    results: dict[str, list[tuple]] = {kind: [] for kind in KINDS}
    started = time.perf_counter()
    for kind, q in plan:
        total_ms, count_ms, matches, n_queries, _ = run_search(owner, q)
        results[kind].append((total_ms, count_ms, total_ms - count_ms, matches, n_queries, q))
    wall = time.perf_counter() - started

    header = (
        f"{'kind':<8}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'queries':>9}"
        f"{'count p99':>11}{'page p99':>10}{'matches p50':>13}{'matches max':>13}"
    )
    print(f"\n{len(plan)} searches in {wall:.1f} s (after {args.warmup} warm-up searches); "
          "'count p99'/'page p99' split each search into the paginator's COUNT and the page of 25 "
          "(+ prefetches).\n")
    print(header)
    print("-" * len(header))
    rows = [(kind, results[kind]) for kind in KINDS] + [("overall", [r for k in KINDS for r in results[k]])]
    for kind, rs in rows:
        totals = [r[0] for r in rs]
        print(
            f"{kind:<8}{len(rs):>7}{percentile(totals, 50):>9.1f}{percentile(totals, 99):>9.1f}{max(totals):>9.1f}"
            f"{statistics.mean(r[4] for r in rs):>9.2f}"
            f"{percentile([r[1] for r in rs], 99):>11.1f}{percentile([r[2] for r in rs], 99):>10.1f}"
            f"{percentile([r[3] for r in rs], 50):>13,}{max(r[3] for r in rs):>13,}"
        )
    overall_p99 = percentile([r[0] for r in rows[-1][1]], 99)
    verdict = "PASS" if overall_p99 < args.target_p99 else "FAIL"
    print(f"\n{verdict}: overall p99 {overall_p99:.1f} ms (target p99 < {args.target_p99:g} ms)")
    for kind, rs in rows[:-1]:
        p99 = percentile([r[0] for r in rs], 99)
        print(f"  {kind:<7} p99 {p99:6.1f} ms  {'PASS' if p99 < args.target_p99 else 'FAIL'}")

    if args.show_slowest:
        print(f"\nSlowest {args.show_slowest} searches:")
        slowest = sorted(((r, k) for k, rs in rows[:-1] for r in rs), key=lambda x: -x[0][0])
        for r, kind in slowest[: args.show_slowest]:
            print(f"  {r[0]:7.1f} ms  (count {r[1]:6.1f}, page {r[2]:6.1f})  {kind:<6} {r[5]!r}  {r[3]:,} matches")

    if args.explain:
        for kind in KINDS:
            # The slowest query of the kind is the informative one.
            worst = max(results[kind], key=lambda r: r[0])
            explain(owner, kind, worst[5])
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()

"""Webhook lead ingest under load: gunicorn (2 workers) on PostgreSQL, 10 concurrent clients, with the
capture worker (Celery, threads x4, as production and ../shared/peers run it) working during the load.

    .venv/bin/python bench/lead_ingest.py [--leads 2000] [--clients 10] [--retries 0.05] [--worker-after]

Posts `--leads` distinct leads to POST /integrations/leads/<slug>/ with a Bearer key and an
Idempotency-Key, plus a share of repeated deliveries (the same Idempotency-Key again, as a retrying
sender does). Prints the accept rate and latency p50/p99; the end-to-end rate (leads that became Lead
rows, with customer, attribution, timeline and instant reply, per second from the first request to the
last capture: what a user feels); CPU milliseconds per lead of gunicorn, the worker and PostgreSQL; the
SQL statements of one lead (accept, capture, instant reply); then counts what landed: every lead exactly
once, no duplicate customers. Targets (issue 13): accept p99 under 100 ms; none lost or duplicated.
`--worker-after` starts the worker only after the load (the old figure: accept alone, no contention).
Uses its own database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/homeservice_bench_ingest,
recreated each run) and Redis database 9 as the broker when Redis answers (else the filesystem broker).
"""

import argparse
import concurrent.futures
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "homeservice_bench_ingest"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
REDIS_URL = "redis://127.0.0.1:6379/9"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def broker_env() -> dict:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
        return {"REDIS_URL": REDIS_URL, "CACHE_REDIS_URL": "redis://127.0.0.1:6379/10"}
    except Exception:
        return {}


def setup_django(env: dict) -> str:
    """Migrate, then make the source and its key through the app's own services."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from crm.models import Source
    from crm.services import source_key_create

    call_command("migrate", verbosity=0)
    from users.models import Business

    Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago")
    source = Source.objects.create(name="Bench webhook", slug="bench", kind=Source.Kind.WEBHOOK)
    _, raw = source_key_create(source=source, actor=None, label="bench")
    return raw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int, threads: int = 1, workers: int = 2) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except urllib.error.HTTPError:
            return proc  # 503 (no worker heartbeat) still means gunicorn answers
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])


def payload(i: int) -> dict:
    return {
        "name": f"Bench Customer {i}",
        "phone": f"(512) {200 + i // 10000:03d}-{i % 10000:04d}",
        "email": f"bench{i}@example.com",
        "street": f"{100 + i} Stanton St",
        "city": "Round Rock",
        "state": "TX",
        "zip": "78665",
        "service": "AC repair",
        "message": "Upstairs is warm",
        "utm_source": "bench",
        "utm_campaign": "load-test",
        "vendor_extra": {"job_id": i},
    }


def post(url: str, key: str, body: dict, idempotency_key: str) -> tuple[float, int]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def start_worker(env: dict) -> subprocess.Popen | None:
    """The capture worker: threads x4 on every queue (None without a broker: the bench captures)."""
    if not env.get("REDIS_URL"):
        return None
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def drain_inbox(worker: subprocess.Popen | None) -> None:
    """Wait until every accepted delivery is a lead (or capture them here when there is no broker)."""
    from integrations.inbound import inbound_process
    from integrations.models import InboundLead

    deadline = time.monotonic() + 600
    while InboundLead.objects.filter(status="pending").exists() and time.monotonic() < deadline:
        if worker is None:  # no broker: be the worker
            for pk in InboundLead.objects.filter(status="pending").values_list("pk", flat=True)[:200]:
                inbound_process(inbound_id=pk)
        else:
            time.sleep(0.2)


def settle(timeout: float = 300) -> bool:
    """Wait until the worker has done everything after the captures: every milestone fanned out, every
    delivery made, every text sent."""
    from events.models import Delivery, Event
    from messaging.models import Message

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = (
            Event.objects.exclude(milestone="").filter(fanned_out_at__isnull=True).exists()
            or Delivery.objects.filter(status="pending").exists()
            or Message.objects.filter(status__in=("queued", "sending")).exists()
        )
        if not busy:
            return True
        time.sleep(0.2)
    return False


def cpu_seconds(roots: dict[str, set[int]], db_name: str = DB_NAME) -> dict[str, float]:
    """CPU time (user + system) used so far by each named process tree, and by the PostgreSQL backends
    connected to `db_name` (persistent connections: they live through the run)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, used, names = {}, {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, _, rest = f.read().rpartition(")")
            fields = rest.split()
        except OSError:
            continue
        parents[int(pid)] = int(fields[1])
        used[int(pid)] = (int(fields[11]) + int(fields[12])) / ticks
        names[int(pid)] = head.partition("(")[2]
        if names[int(pid)] == "postgres":  # count only the backends serving this run's database
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    names[int(pid)] = "postgres" if db_name.encode() in f.read() else "other"
            except OSError:
                names[int(pid)] = "other"
    totals = dict.fromkeys([*roots, "postgres"], 0.0)
    for pid, seconds in used.items():
        if names[pid] == "postgres":
            totals["postgres"] += seconds
            continue
        ancestor = pid
        while ancestor > 1:
            owner = next((name for name, pids in roots.items() if ancestor in pids), None)
            if owner:
                totals[owner] += seconds
                break
            ancestor = parents.get(ancestor, 1)
    return totals


def statements_for_one_lead(key: str) -> dict[str, int]:
    """The SQL statements of one new lead, in this process: the webhook's accept (Django's test client),
    the capture alone, and everything after its commit that a worker does for it (the milestone fan-out,
    the subscribers: timeline, round robin, the instant reply queued and sent by the console backend),
    run inline here."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from config.celery import app
    from events.models import Event
    from events.services import enqueue
    from integrations.inbound import inbound_process
    from integrations.models import InboundLead
    from messaging import outbox
    from messaging.models import Message

    client = Client()
    counts = {}
    with CaptureQueriesContext(connection) as accept:
        client.post(
            "/integrations/leads/bench/",
            data=json.dumps(payload(800_000)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_IDEMPOTENCY_KEY="statements-800000",
        )
    counts["accept"] = len(accept.captured_queries)
    inbound = InboundLead.objects.get(idempotency_key="statements-800000")
    app.conf.task_always_eager = False
    with CaptureQueriesContext(connection) as capture:
        inbound_process(inbound_id=inbound.pk)
    counts["capture"] = len(capture.captured_queries)
    # The same lead's after-commit work, as the worker does it: fan-out, deliveries, the instant reply.
    app.conf.task_always_eager = True
    try:
        with CaptureQueriesContext(connection) as after:
            for pk in (
                Event.objects.exclude(milestone="")
                .filter(fanned_out_at__isnull=True)
                .values_list("pk", flat=True)
            ):
                enqueue("events.tasks.fan_out", pk)
            for pk in Message.objects.filter(status="queued").values_list("pk", flat=True):
                outbox.message_send(message_id=pk)
    finally:
        app.conf.task_always_eager = False
    counts["fan-out, subscribers, first reply"] = len(after.captured_queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--retries", type=float, default=0.05, help="share of deliveries sent twice")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument("--worker-after", action="store_true", help="start the worker after the load")
    args = parser.parse_args()

    recreate_database()
    env = {"DATABASE_URL": DATABASE_URL, "DJANGO_DEBUG": "0", "AXES_ENABLED": "0", **broker_env()}
    key = setup_django(env)
    port = free_port()
    server = start_gunicorn(env, port, args.threads)
    worker = None if args.worker_after else start_worker(env)
    url = f"http://127.0.0.1:{port}/integrations/leads/bench/"
    jobs = [(i, str(uuid.uuid4())) for i in range(args.leads)]
    jobs += jobs[: int(args.leads * args.retries)]  # the retried deliveries
    try:
        for i in range(20):  # warm-up on other data, not counted
            post(url, key, payload(900_000 + i), f"warm-{i}")
        drain_inbox(worker)
        roots = {"gunicorn": {server.pid}, "worker": {worker.pid} if worker else set()}
        cpu_before = cpu_seconds(roots)
        from django.utils import timezone

        load_started_at = timezone.now()
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(lambda job: post(url, key, payload(job[0]), job[1]), jobs))
        elapsed = time.perf_counter() - started
        if args.worker_after:
            worker = start_worker(env)
            roots["worker"] = {worker.pid} if worker else set()
        drain_inbox(worker)
        settled = settle() if worker is not None else True
        settled_seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(roots)
    finally:
        server.terminate()
        server.wait(10)
        if worker is not None:
            worker.terminate()
            worker.wait(20)
    from django.db.models import Max

    from integrations.models import InboundLead

    last_capture = InboundLead.objects.aggregate(last=Max("processed_at"))["last"]
    end_to_end = (last_capture - load_started_at).total_seconds()
    cpu_ms = {name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / args.leads for name in cpu_after}
    from crm.models import Lead
    from customers.models import Customer

    leads = Lead.objects.filter(source__slug="bench").exclude(name__startswith="Bench Customer 9000")
    distinct_keys = leads.values("idempotency_key").distinct().count()
    customers = (
        Customer.objects.filter(emails__email__regex=r"^bench\d+@example\.com$").distinct().count() - 20
    )
    landed_count = leads.count()
    statements = statements_for_one_lead(key)
    latencies = [ms for ms, _ in results]
    statuses: dict[int, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1

    print(
        f"{len(jobs):,} deliveries ({args.leads:,} leads + {len(jobs) - args.leads} retries) "
        f"from {args.clients} clients to gunicorn (2 workers x {args.threads} threads) on PostgreSQL; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"throughput  {len(jobs) / elapsed:8.1f} requests/s   ({elapsed:.1f} s)")
    print(
        f"latency     p50 {statistics.median(latencies):6.1f} ms   p99 {percentile(latencies, 99):6.1f} ms   "
        f"max {max(latencies):6.1f} ms"
    )
    print(f"statuses    {statuses}   (202 accepted, 200 a repeated delivery)")
    worker_when = "started after the load" if args.worker_after else "running during the load"
    print(
        f"end to end  {args.leads / end_to_end:8.1f} leads/s   (first request -> last Lead row: "
        f"{end_to_end:.1f} s; capture worker {worker_when})"
    )
    print(
        f"settled     {settled_seconds:8.1f} s after the first request every milestone was delivered and "
        "every instant reply sent" + ("" if settled else " (NOT SETTLED after 300 s)")
    )
    print(
        "cpu / lead  "
        + "   ".join(f"{name} {ms:.1f} ms" for name, ms in cpu_ms.items())
        + f"   total {sum(cpu_ms.values()):.1f} ms"
    )
    print(
        "sql / lead  "
        + "   ".join(f"{name} {n}" for name, n in statements.items())
        + f"   total {sum(statements.values())}"
    )
    print(f"landed      {landed_count:,} leads ({distinct_keys:,} distinct keys), {customers:,} customers")
    lost_or_dup = landed_count != args.leads or distinct_keys != args.leads or customers != args.leads
    p99 = percentile(latencies, 99)
    print(
        f"{'PASS' if p99 < 100 and not lost_or_dup else 'FAIL'}: p99 {p99:.1f} ms (target < 100 ms); "
        f"{'no lead lost or duplicated' if not lost_or_dup else 'LOST OR DUPLICATED LEADS'}"
    )
    sys.exit(0 if p99 < 100 and not lost_or_dup else 1)


if __name__ == "__main__":
    main()

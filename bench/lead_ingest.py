"""Webhook lead ingest under load: gunicorn (2 workers) on PostgreSQL, 20 concurrent clients.

    .venv/bin/python bench/lead_ingest.py [--leads 2000] [--clients 20] [--retries 0.05]

Posts `--leads` distinct leads to POST /integrations/leads/<slug>/ with a Bearer key and an
Idempotency-Key, plus a share of repeated deliveries (the same Idempotency-Key again, as a retrying
sender does). Prints throughput and latency p50/p99 and then counts what landed: every lead exactly
once, no duplicate customers. Target (issue 3): p99 under 100 ms, zero lost or duplicated leads.
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


def drain_inbox(env: dict) -> float:
    """Start a Celery worker on the queued captures (after the load, so it does not share the CPUs with
    gunicorn during the measurement) and wait until every accepted delivery is a lead."""
    from integrations.models import InboundLead

    started = time.perf_counter()
    worker = None
    if env.get("REDIS_URL"):
        worker = subprocess.Popen(
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
    try:
        from integrations.inbound import inbound_process

        deadline = time.monotonic() + 600
        while InboundLead.objects.filter(status="pending").exists() and time.monotonic() < deadline:
            if worker is None:  # no broker: be the worker
                for pk in InboundLead.objects.filter(status="pending").values_list("pk", flat=True)[:200]:
                    inbound_process(inbound_id=pk)
            else:
                time.sleep(0.5)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--retries", type=float, default=0.05, help="share of deliveries sent twice")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    args = parser.parse_args()

    recreate_database()
    env = {"DATABASE_URL": DATABASE_URL, "DJANGO_DEBUG": "0", "AXES_ENABLED": "0", **broker_env()}
    key = setup_django(env)
    port = free_port()
    server = start_gunicorn(env, port, args.threads)
    url = f"http://127.0.0.1:{port}/integrations/leads/bench/"
    jobs = [(i, str(uuid.uuid4())) for i in range(args.leads)]
    jobs += jobs[: int(args.leads * args.retries)]  # the retried deliveries
    try:
        for i in range(20):  # warm-up on other data, not counted
            post(url, key, payload(900_000 + i), f"warm-{i}")
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(lambda job: post(url, key, payload(job[0]), job[1]), jobs))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)
    drain_seconds = drain_inbox(env)
    latencies = [ms for ms, _ in results]
    statuses: dict[int, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1

    from crm.models import Lead
    from customers.models import Customer

    leads = Lead.objects.filter(source__slug="bench").exclude(name__startswith="Bench Customer 9000")
    distinct_keys = leads.values("idempotency_key").distinct().count()
    customers = (
        Customer.objects.filter(emails__email__regex=r"^bench\d+@example\.com$").distinct().count() - 20
    )
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
    print(
        f"captured    every accepted delivery became a lead {drain_seconds:.1f} s after the load ended "
        f"(a Celery worker started then)"
    )
    print(f"landed      {leads.count():,} leads ({distinct_keys:,} distinct keys), {customers:,} customers")
    lost_or_dup = leads.count() != args.leads or distinct_keys != args.leads or customers != args.leads
    p99 = percentile(latencies, 99)
    print(
        f"{'PASS' if p99 < 100 and not lost_or_dup else 'FAIL'}: p99 {p99:.1f} ms (target < 100 ms); "
        f"{'no lead lost or duplicated' if not lost_or_dup else 'LOST OR DUPLICATED LEADS'}"
    )
    sys.exit(0 if p99 < 100 and not lost_or_dup else 1)


if __name__ == "__main__":
    main()

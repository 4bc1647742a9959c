"""Speed to lead for the website form: a new web lead -> its instant-reply text at a fake Twilio, under load.

    .venv/bin/python bench/web_lead_reply.py [--leads 600] [--rate 10] [--shape production|one-worker]

Recreates its own database (homeservice_bench_webreply), a Business, MessagingSettings (instant reply on,
the business's own quiet hours off) and a website form on a web-form source. Starts the fake Twilio
Messages API of bench/speed_to_lead.py (a thread here), gunicorn (2 x CPUs + 1 sync workers) and Celery:
`production` (default) is docker-compose's shape, an sms worker (prefork x4) and a bulk worker (fan-out,
deliveries) under SCHED_IDLE; `one-worker` is one worker, threads x4, every queue, as bench/lead_ingest.py
and ../shared/peers/ run it. Posts `--leads` new leads open-loop at `--rate` per second to
POST /forms/<id>/ (JSON, as embed.js sends it: the form creates the lead in the request), each with a
distinct valid 737 number, an e-mail and a Round Rock address.

Latency = from just before the form's POST to the fake Twilio receiving the text to that number. Prints
p50/p99/max, the form's own response time, the hand-off after the response (fan-out, the instant reply's
delivery, the send), the CPU each process tree spent per lead, and counts the texts: exactly one per lead.
Target (issue 13): p99 < 1 s at 10 new leads per second for 60 s, every lead answered once.

The texts are held by the state's quiet-hours rule (TX: 9:00-21:00, Sunday from noon) outside the day.
At such an hour the script runs itself again under `.ci/on-clock "tomorrow 13:00"` (libfaketime: every
process it starts shares the moved clock); `--no-clock` refuses instead.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lead_ingest import cpu_seconds, free_port, percentile, start_gunicorn  # noqa: E402
from speed_to_lead import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    CACHE_REDIS_URL,
    FROM_NUMBER,
    REDIS_URL,
    FakeTwilio,
    paced,
    start_worker,
    wait_for,
)

DB_NAME = "homeservice_bench_webreply"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
ZONE = ZoneInfo("America/Chicago")


def daytime_in_texas(now: datetime) -> bool:
    """Inside TX's window with an hour of margin for the run: Mon-Sat 9-20, Sunday 12-20 (local)."""
    local = now.astimezone(ZONE)
    first = 12 if local.isoweekday() == 7 else 9
    return first <= local.hour < 20


def on_texting_hours(*, refuse: bool) -> None:
    """Return at once by day; at night run this script again on tomorrow's 13:00 (or refuse)."""
    if daytime_in_texas(datetime.now(ZONE)):
        return
    if refuse or os.environ.get("FAKETIME"):
        sys.exit("It is outside TX's texting hours in Chicago: the replies would be held. Run it by day.")
    print("Outside TX's texting hours: running again under .ci/on-clock 'tomorrow 13:00'.", flush=True)
    clock = str(ROOT / ".ci/on-clock")
    os.execv(clock, [clock, "tomorrow 13:00", sys.executable, *sys.argv])  # noqa: S606 (our own script)


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup_django(env: dict) -> str:
    """Migrate and make the business, its messaging rules and the form; returns the form's public id."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from crm.models import Source, WebForm
    from messaging.models import MessagingSettings
    from users.models import Business

    Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago", phone=FROM_NUMBER)
    MessagingSettings.objects.create(
        instant_reply_enabled=True, quiet_hours_start="00:00", quiet_hours_end="00:00"
    )
    source = Source.objects.create(
        name="Website", slug="website", kind=Source.Kind.WEB_FORM, instant_reply_enabled=True
    )
    return str(WebForm.objects.create(name="Website request form", source=source).public_id)


def number(i: int) -> str:
    return f"+1737{600 + i // 10000:03d}{i % 10000:04d}"  # valid 737 numbers, exchange 600+ (never 555)


def web_lead(url: str, i: int) -> dict:
    body = {
        "name": f"Web Lead{i}",
        "phone": number(i),
        "email": f"web.lead{i}@example.org",
        "street": f"{100 + i} Stanton St",
        "city": "Round Rock",
        "state": "TX",
        "zip": "78665",
        "message": "Water heater is leaking, please call me back about a quote",
        "utm_source": "google",
        "landing_page": "https://example.com/water-heater",
    }
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    return {"to": number(i), "t0": t0, "form_ms": (time.perf_counter() - t0) * 1000, "status": status}


def summarize(fake: FakeTwilio, results: list[dict]) -> dict:
    latencies, after, missing, duplicated = [], [], 0, 0
    with fake.lock:
        for r in results:
            got = fake.arrivals.get(r["to"], [])
            if not got:
                missing += 1
                continue
            duplicated += len(got) > 1
            latencies.append((got[0] - r["t0"]) * 1000)
            after.append(latencies[-1] - r["form_ms"])
    form = [r["form_ms"] for r in results]

    def stats(values):
        return (statistics.median(values), percentile(values, 99), max(values)) if values else (0, 0, 0)

    return {
        "e2e": stats(latencies),
        "form": stats(form),
        "after": stats(after),
        "received": len(latencies),
        "missing": missing,
        "duplicated": duplicated,
        "bad_status": sum(1 for r in results if r["status"] != 201),
    }


def start_workers(env: dict, shape: str) -> dict[str, subprocess.Popen]:
    if shape == "one-worker":
        return {"worker": start_worker(env, "threads", queues="celery,sms", concurrency=4)}
    return {
        "bulk worker": start_worker(env, "prefork", queues="celery", concurrency=1, idle=True),
        "sms worker": start_worker(env, "prefork", queues="sms", concurrency=4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=600)
    parser.add_argument("--rate", type=float, default=10.0, help="new leads per second")
    parser.add_argument("--shape", choices=["production", "one-worker"], default="production")
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--no-clock", action="store_true", help="refuse at night instead of moving the clock")
    args = parser.parse_args()

    on_texting_hours(refuse=args.no_clock)

    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    recreate_database()
    fake = FakeTwilio().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_REDIS_URL": CACHE_REDIS_URL,
        "DJANGO_DEBUG": "0",
        "AXES_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
        "WEB_FORM_RATE_LIMIT": "100000/s",  # every bench request comes from 127.0.0.1
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.url,
        "PUBLIC_BASE_URL": base,
    }
    form_id = setup_django(env)
    url = f"{base}/forms/{form_id}/"
    redis.Redis.from_url(CACHE_REDIS_URL, socket_connect_timeout=1).flushdb()
    server, workers = None, {}
    try:
        server = start_gunicorn(env, port, workers=args.web_workers)
        workers = start_workers(env, args.shape)
        warm = [web_lead(url, 90_000 + i) for i in range(6)]
        if not wait_for(fake, [r["to"] for r in warm], 60):
            sys.exit(f"warm-up replies never arrived (form said {[r['status'] for r in warm]})")
        time.sleep(1)
        roots = {"gunicorn": {server.pid}, **{name: {w.pid} for name, w in workers.items()}}
        cpu_before = cpu_seconds(roots, DB_NAME)
        results = paced(lambda i: web_lead(url, i), args.leads, args.rate)
        arrived = wait_for(fake, [r["to"] for r in results], 60)
        cpu_after = cpu_seconds(roots, DB_NAME)
        load = os.getloadavg()[0]
    finally:
        for proc in (*workers.values(), server):
            if proc is not None:
                proc.terminate()
        for proc in (*workers.values(), server):
            if proc is not None:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    fake.stop()

    from crm.models import Lead
    from messaging.models import Message

    s = summarize(fake, results)
    numbers = [r["to"] for r in results]
    leads = Lead.objects.filter(phone__in=numbers).count()
    replies = Message.objects.filter(template="instant_reply", to_number__in=numbers).count()
    print(
        f"{args.leads} web leads at {args.rate:g}/s ({args.leads / args.rate:.0f} s) -> website form, "
        f"gunicorn ({args.web_workers} sync), Celery {args.shape}, PostgreSQL, fake Twilio; "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, key in (
        ("form POST -> reply at Twilio", "e2e"),
        ("  the form's response", "form"),
        ("  response -> reply (worker side)", "after"),
    ):
        print(f"{label:34}" + "".join(f"{v:9.1f}" for v in s[key]))
    print(
        f"texts   {s['received']} received for {args.leads} leads, {s['missing']} missing, "
        f"{s['duplicated']} leads texted twice; {leads} Lead rows, {replies} instant-reply rows; "
        f"{s['bad_status']} form answers not 201{'' if arrived else '; TIMED OUT waiting'}"
    )
    per_lead = {name: (cpu_after[name] - cpu_before[name]) * 1000 / args.leads for name in cpu_after}
    print("CPU per lead  " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in per_lead.items()))
    checks = [
        (s["e2e"][1] < 1000, f"p99 {s['e2e'][1]:.0f} ms < 1000 ms"),
        (
            s["received"] == args.leads and not s["duplicated"] and not s["bad_status"],
            f"texts {s['received']}/{args.leads}, {s['duplicated']} duplicated",
        ),
        (leads == args.leads and replies == args.leads, f"{leads} leads, {replies} replies for {args.leads}"),
    ]
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


if __name__ == "__main__":
    main()

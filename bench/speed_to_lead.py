"""Speed to lead: missed call -> text-back, end to end, against a fake Twilio, at 20 calls per second.

    .venv/bin/python bench/speed_to_lead.py [--calls 500] [--rate 20] [--pool prefork|threads|solo]
        [--sms-workers 1] [--sms-concurrency 4] [--bulk-concurrency 1] [--no-bulk-idle --bulk-nice 10]

Recreates its own database (homeservice_bench_stl), starts a fake Twilio Messages API (a thread in
this process), gunicorn (2 x CPUs + 1 sync workers) and the workers as docker-compose runs them: an sms
worker (prefork x4) and a bulk worker under SCHED_IDLE (Redis db 9 broker, db 10 cache). Each
call is the real pair of signed webhooks: POST /integrations/twilio/voice/ then POST
/integrations/twilio/voice/status/ with DialCallStatus=no-answer. Latency = from just before the
status webhook is sent to the moment the fake Twilio receives the POST .../Messages.json to that
caller. Then, in the same run, the same figures for bare `twilio.rest.Client(...).messages.create()`
calls to the same fake server (one Client per send). Targets: e2e p99 < 1 s, p50 < 250 ms, app/bare
p99 ratio <= 10x, status webhook p99 < 50 ms, and exactly one text per caller. Also prints the CPU each
process tree spent per call and the text-back task's checks (call.missed -> outbox row) from the
database's clocks. BENCH_WORKER_LOG=/tmp/workers.log keeps the Celery workers' logs.
"""

import argparse
import concurrent.futures
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lead_ingest import cpu_seconds, free_port, percentile, start_gunicorn  # noqa: E402

DB_NAME = "homeservice_bench_stl"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/9"
CACHE_REDIS_URL = "redis://127.0.0.1:6379/10"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+15125550100"
VOICE_PATH = "/integrations/twilio/voice/"
STATUS_PATH = "/integrations/twilio/voice/status/"


# --- A fake Twilio: records when each POST .../Messages.json arrives --------------------------------------


class FakeTwilio:
    def __init__(self):
        self.arrivals: dict[str, list[float]] = {}  # To -> perf_counter() of each create
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, numbers) -> int:
        with self.lock:
            return sum(len(self.arrivals.get(n, ())) for n in numbers)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
                if self.path.endswith(f"/Accounts/{ACCOUNT_SID}/Messages.json"):
                    to = form.get("To", "")
                    with fake.lock:
                        fake.arrivals.setdefault(to, []).append(arrived)
                    sid = "SM" + uuid.uuid4().hex
                    body = {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": to,
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "direction": "outbound-api",
                        "num_segments": "1",
                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                    }
                    self._send(201, body)
                else:
                    self._send(404, {"code": 20404, "message": "Not found", "status": 404, "more_info": ""})

            def do_GET(self):  # find_sent (only after a crashed send): nothing was sent twice here
                self._send(200, {"messages": [], "next_page_uri": None, "page": 0, "page_size": 50})

            def _send(self, status, body):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, format, *args):
                pass

        return Handler


# --- Setup -----------------------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup_django(env: dict) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from messaging.models import MessagingSettings
    from users.models import Business

    Business.objects.create(name="Bench Plumbing", time_zone="America/Chicago", phone=FROM_NUMBER)
    MessagingSettings.objects.create(
        missed_call_text_enabled=True,
        missed_call_window_minutes=30,
        ring_through_numbers=["+15125550199"],  # voice/ answers with a <Dial action=voice/status/>
        quiet_hours_start="00:00",
        quiet_hours_end="00:00",  # start == end: the business adds no quiet hours of its own
    )
    # State quiet-hours rules still apply, but a text-back answers the caller's own call of a moment
    # ago (messaging.quiet_hours: exempt within 10 minutes), so none is held whatever the time of the run.


def _priority(*, idle: bool, nice: int) -> list[str]:
    """The command prefix that sets a worker's CPU priority: SCHED_IDLE, a nice level, or none."""
    if idle:
        return ["chrt", "--idle", "0"]
    return ["nice", "-n", str(nice)] if nice else []


def start_worker(
    env: dict,
    pool: str,
    queues: str = "celery,sms",
    concurrency: int = 4,
    nice: int = 0,
    idle: bool = False,
    name: str = "",
) -> subprocess.Popen:
    args = [f"--pool={pool}", f"--concurrency={concurrency}"]
    args += ["-Q", queues, "-n", f"{queues.replace(',', '-')}{name}@%h"]
    return subprocess.Popen(
        [
            *_priority(idle=idle, nice=nice),
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            *args,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=open(log, "a") if (log := os.environ.get("BENCH_WORKER_LOG")) else subprocess.DEVNULL,
    )


# --- Load ------------------------------------------------------------------------------------------------


def sign(base: str, path: str, params: dict) -> tuple[str, dict, str]:
    from twilio.request_validator import RequestValidator

    return path, params, RequestValidator(AUTH_TOKEN).compute_signature(base + path, params)


def signed_post(base: str, signed: tuple[str, dict, str]) -> tuple[float, int]:
    path, params, signature = signed
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        base + path,
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def caller(i: int) -> str:
    return f"+1737{300 + i // 10000:03d}{i % 10000:04d}"  # valid 737 numbers, exchange 300+ (never 555)


def signed_call(base: str, i: int) -> tuple[str, tuple, tuple]:
    """The two signed webhooks of call i, prepared before the run (the load generator shares the CPUs)."""
    number = caller(i)
    params = {"CallSid": "CA" + uuid.uuid4().hex, "From": number, "To": FROM_NUMBER, "CallStatus": "ringing"}
    status_params = {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    return number, sign(base, VOICE_PATH, params), sign(base, STATUS_PATH, status_params)


def missed_call(base: str, prepared: tuple[str, tuple, tuple]) -> dict:
    number, voice, status_webhook = prepared
    voice_ms, voice_status = signed_post(base, voice)
    t0 = time.perf_counter()
    ms, status = signed_post(base, status_webhook)
    return {
        "to": number,
        "t0": t0,
        "webhook_ms": ms,
        "voice_ms": voice_ms,
        "statuses": (voice_status, status),
    }


def bare_send(fake_url: str, i: int) -> dict:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    number = f"+1737{400 + i // 10000:03d}{i % 10000:04d}"
    t0 = time.perf_counter()
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=20))
    client.api.base_url = fake_url  # as integrations.sms.backends.TwilioBackend does
    client.messages.create(
        to=number, from_=FROM_NUMBER, body="Sorry we missed your call!", status_callback="http://x/"
    )
    return {"to": number, "t0": t0, "webhook_ms": (time.perf_counter() - t0) * 1000, "statuses": (201, 201)}


def paced(fn, count: int, rate: float, threads: int = 32) -> list[dict]:
    """Start job i at i / rate seconds (open loop: a slow answer does not delay the next call)."""
    start = time.perf_counter() + 0.1

    def run(i):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(count)))


def wait_for(fake: FakeTwilio, numbers: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fake.count(numbers) >= len(numbers):
            time.sleep(1.0)  # a late duplicate would show up here
            return True
        time.sleep(0.05)
    return False


def decision_ms(numbers: list[str]) -> tuple[float, float]:
    """p50 / p99 of the text-back task's checks, from the database's own clocks: its call.missed event
    (written right after it locked the call) -> its outbox row (written after the consent, number-lock
    and window checks)."""
    from events.models import Event
    from messaging.models import Message

    missed = {
        e.data["from"]: e.occurred_at
        for e in Event.objects.filter(code="crm.call.missed", data__from__in=numbers).only(
            "data", "occurred_at"
        )
    }
    gaps = [
        (created - missed[to]).total_seconds() * 1000
        for to, created in Message.objects.filter(template="missed_call", to_number__in=numbers).values_list(
            "to_number", "created_at"
        )
        if to in missed
    ]
    return (statistics.median(gaps), percentile(gaps, 99)) if gaps else (math.inf, math.inf)


def wait_identified(timeout: float) -> bool:
    from messaging.models import Call

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Call.objects.filter(customer__isnull=True).exists():
            return True
        time.sleep(0.2)
    return False


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
            after.append(latencies[-1] - r["webhook_ms"])
    webhook = [r["webhook_ms"] for r in results]
    return {
        "p50": statistics.median(latencies) if latencies else math.inf,
        "p99": percentile(latencies, 99) if latencies else math.inf,
        "max": max(latencies) if latencies else math.inf,
        "webhook_p50": statistics.median(webhook),
        "webhook_p99": percentile(webhook, 99),
        "voice_p50": statistics.median([r.get("voice_ms", 0) for r in results]),
        "voice_p99": percentile([r.get("voice_ms", 0) for r in results], 99),
        "after_p50": statistics.median(after) if after else math.inf,
        "after_p99": percentile(after, 99) if after else math.inf,
        "received": len(latencies),
        "missing": missing,
        "duplicated": duplicated,
        "bad_status": sum(1 for r in results if r["statuses"] != (200, 200) and r["statuses"] != (201, 201)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument(
        "--pool",
        choices=["threads", "prefork", "solo"],
        default="prefork",
        help="Celery pool of both workers (docker-compose: prefork, the default)",
    )
    parser.add_argument(
        "--web-workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default: gunicorn's advice, 2 x CPUs + 1)",
    )
    parser.add_argument(
        "--sms-concurrency", type=int, default=4, help="processes or threads of the sms worker"
    )
    parser.add_argument(
        "--bulk-concurrency", type=int, default=1, help="processes or threads of the bulk worker"
    )
    parser.add_argument(
        "--sms-workers", type=int, default=1, help="sms worker processes (each with --sms-concurrency)"
    )
    parser.add_argument(
        "--sms-nice", type=int, default=0, help="nice level of the sms worker (negative: needs root)"
    )
    parser.add_argument(
        "--bulk-idle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the bulk worker under SCHED_IDLE (chrt --idle 0), as docker-compose does; "
        "--no-bulk-idle: at --bulk-nice instead",
    )
    parser.add_argument(
        "--bulk-nice", type=int, default=10, help="nice level of the bulk worker (0: same as the rest)"
    )
    args = parser.parse_args()

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
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.url,
        "PUBLIC_BASE_URL": base,
    }
    setup_django(env)
    redis.Redis.from_url(CACHE_REDIS_URL, socket_connect_timeout=1).flushdb()
    server = worker = None
    sms_workers = []
    try:
        server = start_gunicorn(env, port, workers=args.web_workers)
        # Production shape (docker-compose.yml): a worker for everything, and one that only sends texts
        # (queue "sms"), so lead captures and event fan-out never wait in front of a text-back.
        # The bulk worker (caller identification, lead capture, milestone fan-out) runs under SCHED_IDLE:
        # a burst of new callers queues there, not in front of the webhooks and the texts.
        worker = start_worker(
            env,
            args.pool,
            queues="celery",
            nice=args.bulk_nice,
            concurrency=args.bulk_concurrency,
            idle=args.bulk_idle,
        )
        sms_workers = [
            start_worker(
                env,
                args.pool,
                queues="sms",
                concurrency=args.sms_concurrency,
                nice=args.sms_nice,
                name=str(i) if args.sms_workers > 1 else "",
            )
            for i in range(args.sms_workers)
        ]
        # Warm-up (not counted): waits until the worker consumes, and warms both gunicorn workers.
        warm = [missed_call(base, signed_call(base, 90_000 + i)) for i in range(6)]
        if not wait_for(fake, [r["to"] for r in warm], 60):
            sys.exit("warm-up texts never arrived: is the Celery worker running?")
        time.sleep(1)

        prepared = [signed_call(base, i) for i in range(args.calls)]
        roots = {
            "gunicorn": {server.pid},
            "sms worker": {w.pid for w in sms_workers},
            "bulk worker": {worker.pid},
        }
        cpu_before = cpu_seconds(roots, DB_NAME)
        self_before = sum(os.times()[:2])
        results = paced(lambda i: missed_call(base, prepared[i]), args.calls, args.rate)
        arrived = wait_for(fake, [r["to"] for r in results], 60)
        identified = wait_identified(120)  # the bulk worker's backlog belongs to the CPU per call
        cpu_after = cpu_seconds(roots, DB_NAME)
        self_cpu_ms = (sum(os.times()[:2]) - self_before) * 1000 / args.calls
        app = summarize(fake, results)
        load = os.getloadavg()[0]
    finally:
        for proc in (*sms_workers, worker, server):
            if proc is not None:
                proc.terminate()
        for proc in (*sms_workers, worker, server):
            if proc is not None:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()

    for i in range(5):  # warm-up: the SDK imports its Api v2010 modules on the first create
        bare_send(fake.url, 90_000 + i)
    bare_results = paced(lambda i: bare_send(fake.url, i), args.calls, args.rate)
    wait_for(fake, [r["to"] for r in bare_results], 10)
    bare = summarize(fake, bare_results)
    fake.stop()

    from messaging.models import Message

    sent_rows = Message.objects.filter(template="missed_call", status__in=["sent", "delivered"]).count()
    print(
        f"{args.calls} missed calls at {args.rate:g}/s -> gunicorn ({args.web_workers} sync) + Celery "
        f"({args.pool}: sms {args.sms_workers} x {args.sms_concurrency}, bulk x{args.bulk_concurrency} "
        f"{'SCHED_IDLE' if args.bulk_idle else f'nice {args.bulk_nice}'}) on PostgreSQL, fake Twilio; "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"{'':14}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'call p50':>10}{'call p99':>10}")
    for name, s in (("app e2e", app), ("bare SDK", bare)):
        print(
            f"{name:14}{s['p50']:9.1f}{s['p99']:9.1f}{s['max']:9.1f}{s['webhook_p50']:10.1f}{s['webhook_p99']:10.1f}"
        )
    print("  (call = the status webhook's response time for the app; the whole messages.create() for bare)")
    print(
        f"app breakdown   voice webhook p50 {app['voice_p50']:.1f} / p99 {app['voice_p99']:.1f} ms; "
        f"status webhook answered -> text at Twilio (queue + Celery pickup + send) "
        f"p50 {app['after_p50']:.1f} / p99 {app['after_p99']:.1f} ms"
    )
    decision = decision_ms([r["to"] for r in results])
    print(
        f"                of which in the text-back task, call.missed -> outbox row (consent, number lock, "
        f"window checks) p50 {decision[0]:.1f} / p99 {decision[1]:.1f} ms"
    )
    ratio99, ratio50 = app["p99"] / bare["p99"], app["p50"] / bare["p50"]
    print(f"ratio app/bare   p99 {ratio99:.1f}x   p50 {ratio50:.1f}x")
    print(
        f"texts           {app['received']} received for {args.calls} callers, {app['missing']} missing, "
        f"{app['duplicated']} callers texted twice; {sent_rows} outbox rows sent; "
        f"{app['bad_status']} webhook pairs not 200/200{'' if arrived else '; TIMED OUT waiting'}"
        f"{'' if identified else '; callers still not identified after 120 s'}"
    )
    per_call = {name: (cpu_after[name] - cpu_before[name]) * 1000 / args.calls for name in cpu_after}
    total = sum(per_call.values())
    print(
        "CPU per call    "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_call.items())
        + f"; total {total:.1f} ms (x {args.rate:g}/s = {total * args.rate / 1000:.2f} CPUs)"
    )
    print(f"                load generator + fake Twilio (this process) {self_cpu_ms:.1f} ms per call")
    checks = [
        (app["p99"] < 1000, f"e2e p99 {app['p99']:.0f} ms < 1000 ms"),
        (app["p50"] < 250, f"e2e p50 {app['p50']:.0f} ms < 250 ms"),
        (ratio99 <= 10, f"p99 ratio {ratio99:.1f}x <= 10x"),
        (app["webhook_p99"] < 50, f"status webhook p99 {app['webhook_p99']:.1f} ms < 50 ms"),
        (
            app["received"] == args.calls and app["duplicated"] == 0 and app["bad_status"] == 0,
            f"texts {app['received']}/{args.calls}, {app['duplicated']} duplicated",
        ),
    ]
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


if __name__ == "__main__":
    main()

"""`make run`'s processes for real: `make serve` (what `make run` starts after migrating and seeding) is
started in its own process group on a free port, asked over HTTP, and stopped with Ctrl-C (SIGINT to the
group, as a terminal sends it)."""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.conftest import missing_service

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 (a local http URL built above)
    except urllib.error.HTTPError:
        return True  # an answer all the same (healthz says 503 before the worker's first heartbeat)
    except OSError:
        return False
    return True


class Served:
    def __init__(self, tmp_path: Path, **env: str | None):
        """`env` adds to the test's environment; None takes a variable out."""
        self.port = _free_port()
        variables = {
            **os.environ,
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "RUN_DIR": str(tmp_path / "run"),
            **env,
        }
        self.env = {name: value for name, value in variables.items() if value is not None}
        subprocess.run(
            [str(REPO / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v0"],
            cwd=REPO, env=self.env, check=True,
        )  # fmt: skip
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            if text in self.output:
                return True
            time.sleep(0.3)
        return text in self.output

    def wait_for_web(self, seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            if _answers(f"http://127.0.0.1:{self.port}/healthz"):
                return True
            time.sleep(0.3)
        return False

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        time.sleep(0.2)  # the reader thread takes the last lines
        return self.process.returncode


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(**env: str | None) -> Served:
        started.append(Served(tmp_path, **env))
        return started[-1]

    yield start
    for served in started:  # honcho runs each process in its own session: only it can stop them all
        if served.process.poll() is None:
            served.ctrl_c()


def test_make_run_serves_on_the_port_given_and_prints_that_url(serve):
    served = serve()
    assert served.wait_for_web(), "the web server never answered on PORT"
    served.ctrl_c()
    assert f"Open http://127.0.0.1:{served.port} " in served.output
    assert f"Starting development server at http://127.0.0.1:{served.port}/" in served.output


@pytest.fixture
def redis_broker(request):
    """The test run's Redis, emptied afterwards of the tasks this beat queued (real-worker tests use it)."""
    url = os.environ.get("REDIS_URL") or missing_service(request, "needs REDIS_URL (a Redis server)")
    yield url
    redis.Redis.from_url(url).delete("celery", "sms")


def test_make_run_with_redis_starts_beat_as_cleanly_as_the_default(serve, redis_broker, tmp_path):
    redis_url = redis_broker
    served = serve(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
    assert served.wait_for_web()
    assert served.wait_for_line("Scheduler: Sending due task"), served.output[-3000:]
    assert list((tmp_path / "run").glob("celerybeat-schedule*")), "beat keeps its schedule in RUN_DIR"
    assert "stopped (rc=" not in served.output, served.output[-3000:]
    served.ctrl_c()


def test_make_run_starts_and_stops_with_ctrl_c_without_noise(serve):
    """The default broker (no REDIS_URL): no kombu warning about a missing hostname on each connection,
    and Ctrl-C is a clean stop, not `make: *** Error 130` (or 143)."""
    served = serve(REDIS_URL=None, CELERY_BROKER_URL=None)
    assert served.wait_for_web()
    assert served.wait_for_line("Scheduler: Sending due task"), served.output[-3000:]
    served.ctrl_c()
    assert "No hostname was supplied" not in served.output
    assert "make: ***" not in served.output and "Traceback" not in served.output, served.output[-3000:]
    assert served.output.rstrip().endswith("Stopped.")

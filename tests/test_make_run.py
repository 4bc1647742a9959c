"""`make run`'s processes for real: `make serve` (what `make run` starts after migrating and seeding) is
started in its own process group on a free port, asked over HTTP, and stopped with Ctrl-C (SIGINT to the
group, as a terminal sends it)."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

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
    def __init__(self, tmp_path: Path, **env: str):
        self.port = _free_port()
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "RUN_DIR": str(tmp_path / "run"),
            **env,
        }
        subprocess.run(
            [str(REPO / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v0"],
            cwd=REPO, env=self.env, check=True,
        )  # fmt: skip
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.output = ""

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
            self.output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.output, _ = self.process.communicate()
        return self.process.returncode


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(**env: str) -> Served:
        started.append(Served(tmp_path, **env))
        return started[-1]

    yield start
    for served in started:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.communicate()


def test_make_run_serves_on_the_port_given_and_prints_that_url(serve):
    served = serve()
    assert served.wait_for_web(), "the web server never answered on PORT"
    served.ctrl_c()
    assert f"Open http://127.0.0.1:{served.port} " in served.output
    assert f"Starting development server at http://127.0.0.1:{served.port}/" in served.output

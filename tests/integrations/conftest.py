"""Lead sources: sources with keys, and a real local HTTP server standing in for Facebook and Google."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.models import Source
from crm.services import source_key_create


class FakeProvider:
    """Answers canned JSON per path (queued answers are used in turn, the last one repeats) and records
    every request as {"method", "path", "query", "headers", "json"}."""

    def __init__(self):
        self.url = ""
        self.requests: list[dict] = []
        self._answers: dict[str, list[tuple[int, dict]]] = {}
        self._lock = threading.Lock()

    def answer(self, path: str, body: dict, *, status: int = 200) -> None:
        self._answers.setdefault(path, []).append((status, body))

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "headers": {k.lower(): v for k, v in handler.headers.items()},
                    "json": json.loads(raw) if raw else None,
                }
            )
            queue = self._answers.get(parts.path) or [(404, {"error": {"message": "no such path"}})]
            status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _handler_for(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fake.handle(self)

        def do_POST(self):
            fake.handle(self)

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def provider():
    fake = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def zapier(db):
    return Source.objects.create(name="Zapier", slug="zapier", kind=Source.Kind.WEBHOOK)


@pytest.fixture
def zapier_key(zapier, owner) -> str:
    return source_key_create(source=zapier, actor=owner, label="Zap")[1]


@pytest.fixture
def google_ads_source(db):
    return Source.objects.create(
        name="Google Ads form", slug="google-form", kind=Source.Kind.GOOGLE_ADS, google_key="s3cret-key"
    )

"""A fake Twilio on 127.0.0.1 that speaks the Messages API, and the settings that point the real SDK at it."""

import base64
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15125550100"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


class FakeTwilio:
    """Holds the texts it accepted (`messages`), records every request (`requests`, `creates()`), and can
    be told to fail the next creates (`fail_next`) or to answer slowly (`delay_seconds`)."""

    def __init__(self):
        self.url = ""
        self.requests: list[dict] = []
        self.messages: list[dict] = []
        self.delay_seconds = 0.0
        self._failures: list[tuple[int, dict]] = []
        self._lock = threading.Lock()

    def fail_next(
        self, times: int = 1, *, status: int = 500, code: int | None = None, message: str = ""
    ) -> None:
        body = {"code": code, "message": message or "Internal error", "status": status}
        body["more_info"] = f"https://www.twilio.com/docs/errors/{code}" if code else ""
        self._failures.extend([(status, body)] * times)

    def creates(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def hold(self, *, to: str, body: str, from_: str = FROM_NUMBER) -> dict:
        """A text Twilio already accepted (as if a worker died before hearing back)."""
        with self._lock:
            return self._store({"To": to, "From": from_, "Body": body})

    def _store(self, form: dict) -> dict:
        now = datetime.now(UTC)
        sid = "SM" + uuid.uuid4().hex
        message = {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(now),
            "date_updated": format_datetime(now),
            "date_sent": format_datetime(now),
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            "_sent": now,
        }
        self.messages.append(message)
        return message

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()} if length else {}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(
                {"method": handler.command, "path": parts.path, "form": form, "query": query}
            )
        if not _authorized(handler):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401, "more_info": ""}
        if parts.path != MESSAGES_PATH:
            return 404, {"code": 20404, "message": "Not found", "status": 404, "more_info": ""}
        if handler.command == "GET":
            return 200, self._list(query)
        return self._create(form)

    def _create(self, form: dict) -> tuple[int, dict]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            stored = None if failure else self._store(form)
        time.sleep(self.delay_seconds)
        return failure or (201, _public(stored))

    def _list(self, query: dict) -> dict:
        since = (
            datetime.fromisoformat(query["DateSent>"].replace("Z", "+00:00"))
            if "DateSent>" in query
            else None
        )
        with self._lock:
            found = [
                _public(m)
                for m in reversed(self.messages)
                if m["to"] == query.get("To", m["to"])
                and m["from"] == query.get("From", m["from"])
                and (since is None or m["_sent"] >= since)
            ]
        size = int(query.get("PageSize", 50))
        return {
            "messages": found[:size],
            "next_page_uri": None,
            "previous_page_uri": None,
            "first_page_uri": f"{MESSAGES_PATH}?PageSize={size}&Page=0",
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(len(found[:size]) - 1, 0),
            "uri": f"{MESSAGES_PATH}?PageSize={size}&Page=0",
        }


def _public(message: dict) -> dict:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _authorized(handler: BaseHTTPRequestHandler) -> bool:
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return handler.headers.get("Authorization", "") == f"Basic {expected}"


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            status, body = fake.handle(self)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client is gone (a killed worker)

        do_GET = do_POST = _answer

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_PHONE_NUMBER = FROM_NUMBER
    settings.TWILIO_API_BASE_URL = fake.url
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    settings.SMS_MAX_ATTEMPTS = 3
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def shop(business):
    """message_queue needs the Business (name, time zone, phone)."""
    return business

"""A stand-in for Stripe on 127.0.0.1: enough of the Checkout Sessions API for the real `stripe` SDK, a
trivial hosted checkout page, and webhook events signed the way Stripe signs them.

    standin = StripeStandIn(); standin.start()          (or the `stripe_standin` fixtures)
    POST /v1/checkout/sessions   form-encoded, Bearer key; the same Idempotency-Key answers the same session
    GET  /checkout/<id>          a page with "Pay" (to success_url) and "Cancel" (to cancel_url) links
    standin.completed_event(session_id)   a checkout.session.completed event (payment_status "paid")
    sign(payload, secret)        the Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "t.body")
"""

import hashlib
import hmac
import html
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_standin_0123456789"
PUBLISHABLE_KEY = "pk_test_standin_0123456789"
WEBHOOK_SECRET = "whsec_standin_0123456789abcdef"


def sign(payload: str, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send with `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def nested(form: list[tuple[str, str]]) -> dict:
    """`line_items[0][price_data][unit_amount]=500` -> {"line_items": {"0": {"price_data": {...}}}}."""
    out: dict = {}
    for key, value in form:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class StripeStandIn:
    """Records every API request (`requests`), keeps the sessions it made (`sessions`), and can be told to
    fail the next creates (`fail_next`)."""

    def __init__(self):
        self.url = ""
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self._by_key: dict[str, str] = {}
        self._failures = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------------------

    def start(self) -> "StripeStandIn":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, times: int = 1) -> None:
        self._failures += times

    def creates(self) -> list[dict]:
        return [r for r in self.requests if r["path"] == "/v1/checkout/sessions"]

    # --- the API -----------------------------------------------------------------------------------------

    def api(self, method: str, path: str, headers: dict, body: str) -> tuple[int, dict]:
        form = nested(parse_qsl(body, keep_blank_values=True))
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "form": form})
        if headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return 401, _error("invalid_request_error", "Invalid API Key provided.")
        if (method, path) != ("POST", "/v1/checkout/sessions"):
            return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")
        if self._failures:
            self._failures -= 1
            return 500, _error("api_error", "Something went wrong on Stripe's end.")
        return 200, self._session_for(headers.get("idempotency-key", ""), form)

    def _session_for(self, key: str, form: dict) -> dict:
        with self._lock:
            if key and key in self._by_key:
                return self.sessions[self._by_key[key]]
            session = self._session(form)
            self.sessions[session["id"]] = session
            if key:
                self._by_key[key] = session["id"]
            return session

    def _session(self, form: dict) -> dict:
        session_id = "cs_test_" + uuid.uuid4().hex
        items = [form["line_items"][i] for i in sorted(form.get("line_items", {}), key=int)]
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        return {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "amount_subtotal": total,
            "currency": items[0]["price_data"]["currency"] if items else "usd",
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "metadata": form.get("metadata", {}),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "payment_intent": None,
            "livemode": False,
            "created": int(time.time()),
            "url": f"{self.url}/checkout/{session_id}",
            "_line_names": [i["price_data"]["product_data"]["name"] for i in items],
        }

    # --- the hosted page and the events --------------------------------------------------------------------

    def page(self, session_id: str) -> tuple[int, str]:
        session = self.sessions.get(session_id)
        if session is None:
            return 404, "<h1>No such checkout</h1>"
        success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        names = ", ".join(html.escape(n) for n in session["_line_names"])
        amount = f"${session['amount_total'] / 100:,.2f}"
        return 200, (
            f"<!doctype html><title>Stand-in checkout</title><h1>Stand-in checkout</h1>"
            f"<p id='what'>{names}: <strong id='amount'>{amount}</strong></p>"
            f"<a id='pay' href='{html.escape(success)}'>Pay</a> "
            f"<a id='cancel' href='{html.escape(session['cancel_url'])}'>Cancel</a>"
        )

    def completed_event(
        self,
        session_id: str,
        *,
        event_type: str = "checkout.session.completed",
        amount_total: int | None = None,
    ) -> dict:
        """The event Stripe sends once the card is charged, with a fresh event id."""
        session = {k: v for k, v in self.sessions[session_id].items() if not k.startswith("_")}
        session.update(status="complete", payment_status="paid", payment_intent="pi_test_" + uuid.uuid4().hex)
        if amount_total is not None:
            session["amount_total"] = amount_total
        return {
            "id": "evt_test_" + uuid.uuid4().hex,
            "object": "event",
            "type": event_type,
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": session},
        }


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def _handler_for(standin: StripeStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = urlsplit(self.path).path
            if path.startswith("/checkout/"):
                status, text = standin.page(path.removeprefix("/checkout/"))
                return self._send(status, text.encode(), "text/html; charset=utf-8")
            return self._api()

        def do_POST(self):
            return self._api()

        def _api(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = standin.api(self.command, urlsplit(self.path).path, headers, body)
            public = {k: v for k, v in answer.items() if not k.startswith("_")}
            self._send(status, json.dumps(public).encode(), "application/json", request_id=True)

        def _send(self, status: int, data: bytes, content_type: str, *, request_id: bool = False):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if request_id:
                self.send_header("Request-Id", "req_" + uuid.uuid4().hex[:14])
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler

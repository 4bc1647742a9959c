"""Calling lead providers' APIs (Facebook Graph, Google Ads) with the standard library."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 15
MAX_RESPONSE_BYTES = 5 * 1024 * 1024


class ProviderError(Exception):
    """A provider call failed. `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def request_json(url: str, *, headers: dict | None = None, body: dict | None = None) -> dict:
    """GET (or POST when there is a body) and return the JSON object answered."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProviderError(f"Refusing to call {_where(url)}.", retryable=False)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Accept": "application/json", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        raise _http_error(url, error) from None
    except OSError as error:  # URLError, timeouts, refused and reset connections
        raise ProviderError(f"{_where(url)} unreachable: {error}", retryable=True) from None
    return _json_object(url, raw)


def _http_error(url: str, error: urllib.error.HTTPError) -> ProviderError:
    detail = error.read(500).decode(errors="replace")
    retryable = error.code >= 500 or error.code == 429
    return ProviderError(
        f"{_where(url)} answered {error.code}: {detail}", retryable=retryable, status=error.code
    )


def _json_object(url: str, raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ProviderError(f"{_where(url)} answered something other than JSON.", retryable=True) from None
    if not isinstance(payload, dict):
        raise ProviderError(f"{_where(url)} answered JSON that is not an object.", retryable=False)
    return payload


def _where(url: str) -> str:
    """The URL without its query string, which may carry an access token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"

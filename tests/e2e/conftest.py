"""Real-browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

* `browser` (session): one Chromium for the whole run. Missing Chromium skips locally, fails in CI.
* `page`: a fresh 1440x900 desktop context per test; `phone_page`: a 390x844 touch phone context.
* `login(page, live_server, username, password)`: log in through the real form.
* `screenshot(page, name)` / `screenshot_both(page, name)`: PNGs under test-artifacts/screenshots/.
* `console`: every console message and uncaught page error of `page`, for CSP checks.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM refuses to run while a loop
# is running unless told it is safe (it is: the loop only drives the browser, never Django).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import missing_service
from tests.e2e.hostsite import HostSite

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000

# Screenshots written in this run; pytest_terminal_summary names the folder when there are any.
_saved: list[Path] = []

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOT_DIR
    if _saved:
        print(f"\nScreenshots: {SCREENSHOT_DIR}")


@pytest.fixture(scope="session")
def browser(request, screenshot_dir):
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        missing_service(request, f"needs Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _new_page(browser, options):
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser):
    """A desktop page (1440x900) in its own context: no cookies shared between tests."""
    context, page = _new_page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A phone page (390x844, mobile, touch) in its own context."""
    context, page = _new_page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def e2e_business(db):
    """The one Business row: its name shows in the header and its time zone drives today's date."""
    from users.models import Business

    return Business.objects.create(
        name="Lone Star Plumbing", time_zone="America/Chicago", phone="+15125550100"
    )


class Console:
    """Collects console messages and uncaught errors from one page.

    `errors` leaves out the browser's own request for /favicon.ico of other sites (a test's host page);
    the app's own pages and /favicon.ico must load (given `app_url`, the live server's).
    """

    def __init__(self, page: Page, app_url: str = ""):
        self.app_url = app_url
        self.messages: list[tuple[str, str, str]] = []  # (type, text, url of the source)
        self.page_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, msg) -> None:
        self.messages.append((msg.type, msg.text, (msg.location or {}).get("url", "")))

    @property
    def errors(self) -> list[str]:
        return [
            f"{text} ({url})" if url else text
            for kind, text, url in self.messages
            if kind == "error" and not self._other_sites_favicon(url)
        ]

    def _other_sites_favicon(self, url: str) -> bool:
        return url.endswith("/favicon.ico") and not (self.app_url and url.startswith(self.app_url))

    @property
    def csp_violations(self) -> list[str]:
        pattern = re.compile(r"content security policy|content-security-policy", re.IGNORECASE)
        return [text for _, text, _ in self.messages if pattern.search(text)] + [
            text for text in self.page_errors if pattern.search(text)
        ]


@pytest.fixture
def console(page, live_server) -> Console:
    return Console(page, app_url=live_server.url)


def login(page: Page, live_server, username: str, password: str) -> None:
    """Log in through the real form and wait until the app has redirected away from it."""
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG named after the page's viewport, e.g. `office-customers-1440x900.png`."""
    size = page.viewport_size or {"width": 0, "height": 0}
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{_slug(name)}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path


def screenshot_both(page: Page, name: str) -> list[Path]:
    """Screenshot `page` as it is, then the same URL, logged in as the same user, at the other size."""
    paths = [screenshot(page, name)]
    is_phone = (page.viewport_size or {}).get("width", 0) < 600
    other = DESKTOP if is_phone else PHONE
    context = page.context.browser.new_context(**other, storage_state=page.context.storage_state())
    try:
        context.set_default_timeout(TIMEOUT_MS)
        other_page = context.new_page()
        other_page.goto(page.url)
        other_page.wait_for_load_state("networkidle")
        paths.append(screenshot(other_page, name))
    finally:
        context.close()
    return paths


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _saved:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(_saved)} screenshots in {SCREENSHOT_DIR}")


@pytest.fixture
def host_site():
    """Somebody else's website on another local port (another origin), pages set by the test."""
    site = HostSite()
    site.start()
    yield site
    site.stop()


def wait_until(page: Page, expression: str, arg=None, timeout_ms: int = TIMEOUT_MS) -> None:
    """Poll `expression` with page.evaluate until it is truthy. Not page.wait_for_function: when its
    predicate is not true at once, Playwright polls it through eval, which the app's CSP (no
    'unsafe-eval') refuses, and the test fails at random on a slow machine."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not (page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(50)

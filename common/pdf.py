"""Customer documents (estimates, invoices) as PDF: a Django template laid out by WeasyPrint.

    pdf = render_pdf("fsm/invoice_pdf.html", {"business": Business.current(), "invoice": invoice},
                     base_url=settings.PUBLIC_BASE_URL)

Templates extend `documents/base.html` (letter size, the business's header, page numbers, the lines and
totals tables). Rendering never touches the network: the fetcher serves the project's static files and
media (the business's logo) from disk and refuses every other address, so a document renders the same
in a web request, a Celery worker or a test, and a URL in a customer's text cannot make the server fetch
anything. Fonts are the system's (fonts-dejavu-core, see README).
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils._os import safe_join


def render_pdf(template_name: str, context: dict, *, base_url: str) -> bytes:
    """The template rendered with `context`, as the bytes of a PDF. Relative URLs in it (`/static/...`,
    `{{ business.logo.url }}`) resolve against `base_url` (the site's address, e.g. PUBLIC_BASE_URL)."""
    from weasyprint import HTML  # imported on first use: it loads Pango, which web requests rarely need

    html = render_to_string(template_name, context)
    document = HTML(string=html, base_url=base_url, url_fetcher=_local_fetcher(base_url))
    return document.write_pdf()


class RefusedURL(ValueError):
    """A document asked for something that is not one of our static or media files."""


def _local_fetcher(base_url: str):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """Static files and media of this site, read from disk; `data:` URLs; nothing else."""

        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)  # decoded in memory by urllib, no network
            path = local_path(url, base_url=base_url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.open("rb"), {"Content-Type": content_type})

    return LocalFetcher(timeout=1, allow_redirects=False)


def local_path(url: str, *, base_url: str) -> Path:
    """The file on disk behind `url`, one of this site's static files or media; RefusedURL otherwise
    (another host, another scheme, a path outside the static and media folders, a missing file)."""
    parts, base = urlsplit(url), urlsplit(base_url)
    if parts.scheme not in ("http", "https") or (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        raise RefusedURL(f"Documents only load this site's own files, not {url}")
    path = unquote(parts.path)
    found = _static_file(path) or _media_file(path)
    if found is None or not found.is_file():
        raise RefusedURL(f"No local static or media file at {url}")
    return found


def _url_prefix(setting: str) -> str:
    return "/" + setting.strip("/") + "/"


def _static_file(path: str) -> Path | None:
    prefix = _url_prefix(settings.STATIC_URL)
    if not path.startswith(prefix):
        return None
    relative = path.removeprefix(prefix)
    found = finders.find(relative) or _within(settings.STATIC_ROOT, relative)
    return Path(found) if found else None


def _media_file(path: str) -> Path | None:
    prefix = _url_prefix(settings.MEDIA_URL)
    if not path.startswith(prefix):
        return None
    return _within(settings.MEDIA_ROOT, path.removeprefix(prefix))


def _within(root, relative: str) -> Path | None:
    try:
        return Path(safe_join(root, relative))
    except SuspiciousFileOperation:
        return None

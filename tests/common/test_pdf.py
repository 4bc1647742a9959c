"""common.pdf: a document on the base template, with the business's logo, as a real PDF read back."""

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw
from pypdf import PdfReader

from common.pdf import RefusedURL, local_path, render_pdf
from tests.conftest import missing_service
from users.models import Business

pytestmark = pytest.mark.django_db

BASE_URL = "http://testserver/"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _logo() -> bytes:
    image = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 116, 116), radius=22, fill=(15, 98, 174))
    draw.polygon([(60, 22), (98, 58), (86, 58), (86, 96), (34, 96), (34, 58), (22, 58)], fill="white")
    draw.rectangle((52, 70, 68, 96), fill=(15, 98, 174))
    draw.rectangle((132, 40, 340, 58), fill=(18, 38, 63))
    draw.rectangle((132, 70, 290, 82), fill=(122, 133, 150))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def business():
    business = Business(
        name="Lone Star Comfort & Plumbing",
        legal_name="Lone Star Comfort & Plumbing LLC",
        license_number="TACLA00123456C",
        street="4410 S Congress Ave, Suite 200",
        city="Austin",
        state="TX",
        zip_code="78745",
        phone="+15125550100",
        email="office@lonestarcomfort.example",
        website="https://lonestarcomfort.example",
        invoice_terms="Payment is due on receipt. We accept card, check and ACH.\n"
        "A late fee of 1.5% per month applies to balances over 30 days.",
    )
    business.logo.save("logo.png", ContentFile(_logo()), save=False)
    business.save()
    return business


def _context(business, lines: int = 3) -> dict:
    items = [
        {"group": "Water heater replacement"},
        {
            "name": "50 gal. gas water heater, installed",
            "description": "Bradford White RG250T6N, 6-year tank warranty.\nHaul-away of the old unit.",
            "quantity": "1",
            "unit_price": "1,650.00",
            "amount": "1,650.00",
        },
        {
            "name": "Expansion tank",
            "description": "Required by code.",
            "quantity": "1",
            "unit_price": "145.00",
            "amount": "145.00",
        },
        {"name": "Flue and gas connector", "quantity": "1", "unit_price": "89.50", "amount": "89.50"},
        *(
            {"name": f"Fitting kit {n}", "quantity": "2", "unit_price": "12.25", "amount": "24.50"}
            for n in range(lines)
        ),
    ]
    return {
        "business": business,
        "number": "INV-1042",
        "issued_on": date(2026, 12, 5),
        "due_on": date(2026, 12, 5),
        "customer_name": "Ana Ruiz",
        "billing_lines": ["1944 Stanton St", "Round Rock, TX 78665"],
        "service_lines": ["1944 Stanton St", "Round Rock, TX 78665"],
        "job_summary": "Job #318 · Water heater leaking",
        "message": "Thank you for choosing us, Ana. Your new water heater is under warranty until 2032.",
        "lines": items,
        "subtotal": "1,958.00",
        "tax_label": "Texas + Austin 8.25%",
        "tax": "161.54",
        "total": "2,119.54",
        "paid": "0.00",
        "balance": "2,119.54",
    }


def test_a_document_carries_the_business_and_its_total(business):
    pdf = render_pdf("documents/specimen.html", _context(business), base_url=BASE_URL)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Lone Star Comfort & Plumbing" in text
    assert "TACLA00123456C" in text
    assert "$2,119.54" in text
    assert "Page 1 of 1" in text
    assert reader.pages[0].mediabox.width == 612 and reader.pages[0].mediabox.height == 792  # US letter
    images = [image for page in reader.pages for image in page.images]
    assert images, "the logo is embedded"


def test_a_long_document_numbers_its_pages_and_repeats_the_table_head(business):
    pdf = render_pdf("documents/specimen.html", _context(business, lines=60), base_url=BASE_URL)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    second = reader.pages[1].extract_text()
    assert f"Page 2 of {len(reader.pages)}" in second
    assert "Unit price" in second.replace("UNIT PRICE", "Unit price")


def test_page_one_renders_to_an_image_for_a_person_to_look_at(request, business):
    if not shutil.which("pdftoppm"):
        missing_service(request, "needs pdftoppm: apt-get install poppler-utils")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / "specimen.pdf"
    pdf_path.write_bytes(render_pdf("documents/specimen.html", _context(business), base_url=BASE_URL))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(ARTIFACTS / "specimen"),
        ],
        check=True,
    )
    with Image.open(ARTIFACTS / "specimen.png") as page:
        assert page.size == (680, 880)  # 8.5 x 11 in at 80 dpi
        assert page.convert("L").getextrema()[0] < 60  # ink on the page, not a blank sheet


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/logo.png",  # another host
        "http://169.254.169.254/latest/meta-data/",  # another host, the classic
        "file:///etc/passwd",  # another scheme
        "http://testserver/media/../../etc/passwd",  # outside the media folder
        "http://testserver/accounts/login/",  # a page, not a file
        "http://testserver/media/business/missing.png",
    ],
)
def test_the_fetcher_refuses_anything_but_local_files(url):
    with pytest.raises(RefusedURL):
        local_path(url, base_url=BASE_URL)


def test_the_fetcher_serves_static_files_and_media(business):
    assert local_path(f"http://testserver{business.logo.url}", base_url=BASE_URL) == Path(business.logo.path)
    assert local_path("http://testserver/static/css/app.css", base_url=BASE_URL).name == "app.css"


def test_an_outside_image_is_left_out_and_the_document_still_renders(
    business, settings, tmp_path, monkeypatch
):
    import urllib.request

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, url, *a, **k: opened.append(url))
    (tmp_path / "outside.html").write_text(
        '{% extends "documents/base.html" %}{% block content %}<img src="https://example.com/x.png">'
        '<img src="http://127.0.0.1:9/tracker.gif"><p>Still here</p>{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    pdf = render_pdf("outside.html", {"business": business}, base_url=BASE_URL)
    assert "Still here" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert opened == []

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.errors import ApplicationError
from users.models import Business, PaymentTerms
from users.services import business_update

from .conftest import image_bytes

pytestmark = pytest.mark.django_db

URL = "/settings/business/"


def _form(business: Business, **changes) -> dict:
    data = {
        "name": business.name,
        "legal_name": "Test Plumbing Company LLC",
        "license_number": "M-40123",
        "street": "1200 Industrial Blvd",
        "city": "Austin",
        "state": "tx",
        "zip_code": "78745",
        "phone": "(512) 555-0100",
        "email": "office@testplumbing.example",
        "website": "https://testplumbing.example",
        "time_zone": "America/Chicago",
        "estimate_terms": "Valid for 30 days.",
        "invoice_terms": "Thank you for your business.",
        "payment_terms_days": str(PaymentTerms.NET_15),
        "estimate_valid_days": "45",
        "estimate_prefix": "EST",
        "invoice_prefix": "INV",
        "credit_note_prefix": "CN",
    }
    data.update(changes)
    return data


def test_the_owner_edits_the_business_details(owner, client_for, business):
    response = client_for(owner).post(URL, _form(business))
    assert response.status_code == 302 and response["Location"] == URL
    business.refresh_from_db()
    assert business.legal_name == "Test Plumbing Company LLC"
    assert business.license_number == "M-40123"
    assert business.state == "TX"
    assert business.payment_terms_days == PaymentTerms.NET_15
    assert business.estimate_valid_days == 45
    assert business.address_lines == ["1200 Industrial Blvd", "Austin, TX 78745"]
    assert Business.current().legal_name == "Test Plumbing Company LLC"  # the cached copy was dropped


def test_the_owner_uploads_a_logo_and_sees_it(owner, client_for, business):
    client = client_for(owner)
    logo = SimpleUploadedFile("logo.png", image_bytes("PNG"), content_type="image/png")
    assert client.post(URL, {**_form(business), "logo": logo}).status_code == 302
    business.refresh_from_db()
    assert business.logo.name.startswith("business/logo") and business.logo.name.endswith(".png")
    page = client.get(URL)
    assert reverse("users:business-logo") in page.content.decode()
    image = client.get(reverse("users:business-logo"))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_saved(owner, client_for, business):
    fake = SimpleUploadedFile("logo.png", b"%PDF-1.7 this is not a picture", content_type="image/png")
    response = client_for(owner).post(URL, {**_form(business), "logo": fake})
    assert response.status_code == 200
    assert "The logo must be a PNG or JPEG image." in response.context["form"].errors["logo"]
    business.refresh_from_db()
    assert not business.logo and business.legal_name == ""


def test_a_gif_logo_is_refused_whatever_its_name(owner, business):
    gif = SimpleUploadedFile("logo.png", image_bytes("GIF"), content_type="image/png")
    with pytest.raises(ApplicationError) as error:
        business_update(business=business, actor=owner, logo=gif)
    assert error.value.field == "logo"


def test_a_logo_over_the_size_limit_is_refused(owner, client_for, business, settings):
    settings.BUSINESS_LOGO_MAX_BYTES = 1024
    big = SimpleUploadedFile("logo.jpg", image_bytes("JPEG", (600, 600)) + b"\0" * 2048)
    response = client_for(owner).post(URL, {**_form(business), "logo": big})
    assert "at most" in response.context["form"].errors["logo"][0]
    business.refresh_from_db()
    assert not business.logo


def test_a_bad_prefix_is_a_field_error(owner, client_for, business):
    response = client_for(owner).post(URL, _form(business, invoice_prefix="inv-"))
    assert response.status_code == 200
    assert response.context["form"].errors["invoice_prefix"] == [
        "Capital letters and digits, starting with a letter."
    ]
    business.refresh_from_db()
    assert business.invoice_prefix == "INV" and business.legal_name == ""


def test_the_logo_can_be_removed(owner, business):
    logo = SimpleUploadedFile("logo.jpg", image_bytes("JPEG"))
    business = business_update(business=business, actor=owner, logo=logo)
    assert business.logo.name.endswith(".jpg")
    business = business_update(business=business, actor=owner, remove_logo=True)
    business.refresh_from_db()
    assert not business.logo


def test_an_unknown_field_is_refused(owner, business):
    with pytest.raises(ApplicationError):
        business_update(business=business, actor=owner, service_area_zip_codes=["78701"])


@pytest.mark.parametrize("role", ["office", "dispatcher", "technician"])
def test_only_the_owner_opens_the_business_settings(role, personas, client_for, business):
    client = client_for(personas[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(business, name="Taken over")).status_code == 403
    business.refresh_from_db()
    assert business.name == "Test Plumbing Co"


def test_the_owner_reaches_settings_from_the_navigation(owner, client_for, business):
    page = client_for(owner).get("/settings/").content.decode()
    assert 'href="/settings/business/"' in page and 'href="/settings/tax-rates/"' in page
    assert '<a href="/settings/" class="active"' in page


def test_the_owner_previews_a_sample_invoice_with_the_business_on_it(owner, client_for, business):
    import io

    from pypdf import PdfReader

    from users.services import tax_rate_create

    tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    logo = SimpleUploadedFile("logo.png", image_bytes("PNG"))
    business_update(business=business, actor=owner, logo=logo, license_number="M-40123")
    response = client_for(owner).get(reverse("users:document-preview"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Test Plumbing Co" in text and "M-40123" in text and "$1,943.09" in text  # 1,795.00 + 8.25%

"""Estimate and invoice PDFs: rendered by WeasyPrint, read back with pypdf, page one kept as a PNG."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from fsm.documents.pdf import estimate_pdf, invoice_pdf
from fsm.estimates import services as estimates
from fsm.invoices import services as invoices
from tests.conftest import missing_service
from tests.factories import make_customer

from .estimate_helpers import austin_tax, good_better_best, issued_invoice, signature_data_url

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


@pytest.fixture
def customer(business, office):
    business.license_number = "TACLA00123456C"
    business.estimate_terms = "Prices are valid for 30 days. Permits are included."
    business.invoice_terms = "Payment is due on receipt."
    business.save()
    austin_tax()
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _png(request, pdf: bytes, name: str) -> None:
    if not shutil.which("pdftoppm"):
        missing_service(request, "needs pdftoppm: apt-get install poppler-utils")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(ARTIFACTS / name),
        ],
        check=True,
    )
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000


def test_an_accepted_estimate_prints_its_options_terms_and_signature(request, customer, office):
    estimate = good_better_best(customer=customer, actor=office)
    estimate = estimates.estimate_send(estimate=estimate, actor=office)
    better = estimate.options.get(name="Better")
    estimates.estimate_accept(
        estimate=estimate,
        option_id=better.pk,
        addon_ids=[better.lines.get(is_addon=True).pk],
        signer_name="Ana Ruiz",
        signature=signature_data_url(),
    )
    estimate.refresh_from_db()
    pdf = estimate_pdf(estimate)
    text = _text(pdf)
    for expected in (
        estimate.number,
        "TACLA00123456C",
        "Good",
        "Better",
        "Best",
        "$2,051.34",
        "$4,014.22",
        "Accepted online by Ana Ruiz",
        "Permits are included",
    ):
        assert expected in text, expected
    assert PdfReader(io.BytesIO(pdf)).pages[0].images, "the signature is embedded"
    _png(request, pdf, "estimate-accepted")


def test_an_invoice_prints_lines_payments_and_balance(request, customer, office):
    invoice = issued_invoice(customer=customer, actor=office, amount="500.00")
    invoices.payment_record(invoice=invoice, actor=office, method="check", amount="200", reference="1042")
    invoice.refresh_from_db()
    text = _text(invoice_pdf(invoice))
    for expected in (
        invoice.number,
        "Drain cleaning",
        "$541.25",
        "Balance due",
        "$341.25",
        "Payment is due on receipt",
    ):
        assert expected in text, expected
    _png(request, invoice_pdf(invoice), "invoice-partly-paid")


def test_the_pdfs_are_served_to_the_office_and_by_the_links(client_for, client, office, technician, customer):
    invoice = issued_invoice(customer=customer, actor=office)
    response = client_for(office).get(f"/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert client_for(technician).get(f"/invoices/{invoice.pk}/pdf/").status_code == 403
    public = client.get(f"/i/{invoice.public_token}/pdf/")
    assert public.status_code == 200 and public["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/i/{'x' * 32}/pdf/").status_code == 404

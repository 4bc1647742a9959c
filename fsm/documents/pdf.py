"""Estimates and invoices as PDF (common.pdf.render_pdf: WeasyPrint, local files only)."""

from django.conf import settings

from common.pdf import render_pdf
from users.models import Business

from ..estimates.models import Estimate
from ..estimates.selectors import options_with_lines
from ..invoices.models import Invoice


def estimate_pdf(estimate: Estimate) -> bytes:
    context = {"business": Business.current(), "estimate": estimate, "options": options_with_lines(estimate)}
    return render_pdf("fsm/pdf/estimate.html", context, base_url=settings.PUBLIC_BASE_URL)


def invoice_pdf(invoice: Invoice) -> bytes:
    from ..invoices.services import public_url

    context = {
        "business": Business.current(),
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position", "pk")),
        "payments": list(invoice.payments.order_by("received_at", "pk")),
        "public_url": public_url(invoice) if invoice.state in Invoice.PAYABLE_STATES else "",
    }
    return render_pdf("fsm/pdf/invoice.html", context, base_url=settings.PUBLIC_BASE_URL)


def pdf_response(data: bytes, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response

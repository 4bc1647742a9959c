"""The customer's invoice page, reached by the link in the text or e-mail: /i/<token>/."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from users.access import public
from users.models import Business

from ..documents.public import find_by_token, public_document
from .models import Invoice

SHOWN = Invoice.objects.exclude(state=Invoice.State.DRAFT).select_related("customer", "property")


@public
@public_document
@require_GET
def invoice_page(request, token: str):
    invoice = find_by_token(request, SHOWN, token)
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position", "pk")),
        "payments": list(invoice.payments.order_by("received_at", "pk")),
        "business": Business.current(),
    }
    return render(request, "fsm/invoices/public.html", context)


@public
@public_document
@require_GET
def invoice_pdf(request, token: str):
    from ..documents.pdf import invoice_pdf as render
    from ..documents.pdf import pdf_response

    invoice = find_by_token(request, SHOWN, token)
    return pdf_response(render(invoice), f"{invoice.number}.pdf")

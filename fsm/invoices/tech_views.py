"""The technician's "Invoice and collect" at the end of the visit, on the phone: the job's work and
materials (the accepted estimate's lines plus what was added on site), issue, take the payment.

Three taps from the job page: "Invoice and collect" -> "Invoice $X" -> the payment method -> done
(cash; a check asks for its number, a card for its reference).
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from users.access import role_required
from users.roles import Role

from ..documents.lines import LineIn
from ..models import DISPATCH_ROLES
from ..pricebook.models import PricebookItem
from ..selectors import get_job_for_user
from . import services
from .models import Invoice, InvoiceLine, Payment

WORKERS = (*DISPATCH_ROLES, Role.TECHNICIAN)


def _invoice(job) -> Invoice | None:
    """The invoice being collected: the open draft, else the last issued one."""
    invoices = list(job.invoices.exclude(state=Invoice.State.VOID).order_by("-pk"))
    return next((i for i in invoices if i.state == Invoice.State.DRAFT), invoices[0] if invoices else None)


@role_required(*WORKERS)
def collect(request, pk: int, errors: dict | None = None, status: int = 200):
    job = get_job_for_user(request.user, pk)
    invoice = _invoice(job)
    context = {
        "job": job,
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position", "pk")) if invoice else [],
        "methods": [
            (Payment.Method.CASH, "Cash"),
            (Payment.Method.CHECK, "Check"),
            (Payment.Method.CARD, "Card"),
        ],
        "errors": errors or {},
        "values": request.POST if errors else {},
        "payments": list(invoice.payments.order_by("received_at")) if invoice else [],
    }
    return render(request, "fsm/invoices/collect.html", context, status=status)


def _act(request, pk: int, do, *, scope: str, done: str = ""):
    job = get_job_for_user(request.user, pk)
    try:
        do(job)
    except ApplicationError as error:
        return collect(
            request,
            pk,
            errors={"scope": scope, "message": error.message, error.field or "page": error.message},
            status=400,
        )
    if done:
        messages.success(request, done)
    return redirect(reverse("tech-collect", args=[pk]))


@role_required(*WORKERS)
@require_POST
def collect_line_add(request, pk: int):
    item = None
    if (item_id := request.POST.get("item", "")).isdigit():
        item = get_object_or_404(PricebookItem, pk=int(item_id))
    line = LineIn(
        name=request.POST.get("name", ""),
        quantity=request.POST.get("quantity") or "1",
        unit_price=request.POST.get("unit_price"),
    )

    def do(job):
        invoice = services.invoice_for_job(job=job, actor=request.user)
        services.invoice_line_add(invoice=invoice, actor=request.user, line=line, item=item)

    return _act(request, pk, do, scope="add")


@role_required(*WORKERS)
@require_POST
def collect_line_remove(request, pk: int, line_pk: int):
    def do(job):
        line = get_object_or_404(InvoiceLine, pk=line_pk, invoice__job=job)
        services.invoice_line_remove(line=line, actor=request.user)

    return _act(request, pk, do, scope="lines")


@role_required(*WORKERS)
@require_POST
def collect_issue(request, pk: int):
    def do(job):
        invoice = _invoice(job)
        if invoice is None or invoice.state != Invoice.State.DRAFT:
            raise ApplicationError("Add the work and materials first.", field="lines")
        services.invoice_issue(invoice=invoice, actor=request.user)

    return _act(request, pk, do, scope="issue")


@role_required(*WORKERS)
@require_POST
def collect_pay(request, pk: int):
    post = request.POST

    def do(job):
        invoice = _invoice(job)
        if invoice is None:
            raise ApplicationError("There is no invoice to pay yet.", field="invoice")
        services.payment_record(
            invoice=invoice,
            actor=request.user,
            method=post.get("method", ""),
            amount=post.get("amount", ""),
            reference=post.get("reference", ""),
        )

    return _act(request, pk, do, scope="pay", done="Payment recorded. Thank the customer!")


@role_required(*WORKERS)
@require_POST
def collect_receipt(request, pk: int):
    def do(job):
        invoice = _invoice(job)
        if invoice is None:
            raise ApplicationError("There is no invoice yet.", field="invoice")
        services.invoice_send(invoice=invoice, actor=request.user, sms=True, email=True)

    return _act(request, pk, do, scope="receipt", done="Receipt sent.")


urlpatterns = [
    path("my-day/jobs/<int:pk>/collect/", collect, name="tech-collect"),
    path("my-day/jobs/<int:pk>/collect/lines/", collect_line_add, name="tech-collect-line"),
    path(
        "my-day/jobs/<int:pk>/collect/lines/<int:line_pk>/remove/",
        collect_line_remove,
        name="tech-collect-line-remove",
    ),
    path("my-day/jobs/<int:pk>/collect/issue/", collect_issue, name="tech-collect-issue"),
    path("my-day/jobs/<int:pk>/collect/pay/", collect_pay, name="tech-collect-pay"),
    path("my-day/jobs/<int:pk>/collect/receipt/", collect_receipt, name="tech-collect-receipt"),
]

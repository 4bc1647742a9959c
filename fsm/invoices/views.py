"""The office's invoice pages: the list (and the unpaid list with days overdue), an invoice from a job or
by hand, the draft's editor, issuing, payments, credit, void and credit notes.

Every write calls fsm.invoices.services; a refusal re-renders the page with the message on the form
that sent it (status 400), so nothing typed is lost.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from customers.selectors import get_customer_for_user
from users.access import role_required
from users.models import Business
from users.roles import Role

from ..documents.parties import customer_contacts
from ..documents.views import as_int, line_in, list_page
from ..models import Job
from ..pricebook.models import PricebookItem
from . import selectors, services
from .models import Invoice, InvoiceLine, Payment

MONEY_ROLES = (Role.OWNER, Role.OFFICE)


@role_required(*MONEY_ROLES)
def invoice_list(request):
    today = timezone.localdate(timezone.now(), Business.current().tzinfo)

    def overdue(invoice):
        invoice.days_overdue = selectors.days_overdue(invoice, today)

    return list_page(
        request,
        selectors.invoice_list(data=request.GET or None),
        "fsm/invoices/list.html",
        summary=selectors.invoice_totals,
        each_row=overdue,
    )


@role_required(*MONEY_ROLES)
def payment_list(request):
    return list_page(
        request,
        selectors.payment_list(data=request.GET or None),
        "fsm/invoices/payments.html",
        summary=selectors.payment_totals,
    )


@role_required(*MONEY_ROLES)
@require_POST
def invoice_new(request):
    """From a job (its draft, made the first time) or a customer (a new draft by hand)."""
    try:
        if job_id := as_int(request.POST.get("job")):
            job = get_object_or_404(Job, pk=job_id)
            invoice = services.invoice_for_job(job=job, actor=request.user)
        else:
            customer = get_customer_for_user(request.user, as_int(request.POST.get("customer")))
            prop = customer.properties.filter(pk=as_int(request.POST.get("property"))).first()
            invoice = services.invoice_create(customer=customer, property=prop, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(request.POST.get("back") or "invoice-list")
    return redirect("invoice-detail", pk=invoice.pk)


@role_required(*MONEY_ROLES)
def invoice_detail(request, pk: int, errors: dict | None = None, status: int = 200):
    invoice = selectors.invoice_for_user(request.user, pk)
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position", "pk")),
        "payments": list(invoice.payments.select_related("recorded_by").order_by("received_at", "pk")),
        "credit_notes": list(invoice.credit_notes.order_by("issued_at")),
        "credit": services.credit_balance(invoice.customer),
        "contacts": customer_contacts(invoice.customer),
        "methods": [(v, label) for v, label in Payment.Method.choices if v not in ("credit", "online")],
        "public_url": services.public_url(invoice) if invoice.state != Invoice.State.DRAFT else "",
        "errors": errors or {},
        "values": request.POST if errors else {},
        "today": timezone.localdate(timezone.now(), Business.current().tzinfo),
    }
    return render(request, "fsm/invoices/detail.html", context, status=status)


def _act(request, pk: int, do, *, scope: str, scope_pk: int = 0, done: str = "", anchor: str = ""):
    invoice = selectors.invoice_for_user(request.user, pk)
    try:
        do(invoice)
    except ApplicationError as error:
        errors = {
            "scope": scope,
            "scope_pk": scope_pk,
            "message": error.message,
            error.field or "page": error.message,
        }
        return invoice_detail(request, pk, errors=errors, status=400)
    if done:
        messages.success(request, done)
    return redirect(reverse("invoice-detail", args=[pk]) + (f"#{anchor}" if anchor else ""))


@role_required(*MONEY_ROLES)
@require_POST
def invoice_edit(request, pk: int):
    post = request.POST
    return _act(
        request,
        pk,
        lambda i: services.invoice_update(
            invoice=i,
            actor=request.user,
            discount=post.get("discount") or "0",
            message=post.get("message", ""),
            internal_notes=post.get("internal_notes", ""),
        ),
        scope="details",
        done="Saved.",
    )


@role_required(*MONEY_ROLES)
@require_POST
def line_add(request, pk: int):
    item = None
    if item_id := as_int(request.POST.get("item")):
        item = get_object_or_404(PricebookItem, pk=item_id)
    return _act(
        request,
        pk,
        lambda i: services.invoice_line_add(
            invoice=i, actor=request.user, line=line_in(request.POST), item=item
        ),
        scope="add",
        anchor="lines",
    )


@role_required(*MONEY_ROLES)
@require_POST
def line_edit(request, pk: int, line_pk: int):
    def do(invoice):
        line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
        if request.POST.get("remove"):
            return services.invoice_line_remove(line=line, actor=request.user)
        return services.invoice_line_update(line=line, actor=request.user, changes=line_in(request.POST))

    return _act(request, pk, do, scope="line", scope_pk=line_pk, anchor="lines")


@role_required(*MONEY_ROLES)
@require_POST
def invoice_issue(request, pk: int):
    sms, email = request.POST.get("sms") == "on", request.POST.get("email") == "on"
    return _act(
        request,
        pk,
        lambda i: services.invoice_issue(invoice=i, actor=request.user, send_sms=sms, send_email=email),
        scope="issue",
        done="Issued." + (" The customer's link is on its way." if sms or email else ""),
    )


@role_required(*MONEY_ROLES)
@require_POST
def invoice_send(request, pk: int):
    sms, email = request.POST.get("sms") == "on", request.POST.get("email") == "on"
    return _act(
        request,
        pk,
        lambda i: services.invoice_send(invoice=i, actor=request.user, sms=sms, email=email),
        scope="send",
        done="Sent.",
    )


@role_required(*MONEY_ROLES)
@require_POST
def payment_add(request, pk: int):
    post = request.POST
    return _act(
        request,
        pk,
        lambda i: services.payment_record(
            invoice=i,
            actor=request.user,
            method=post.get("method", ""),
            amount=post.get("amount", ""),
            reference=post.get("reference", ""),
            note=post.get("note", ""),
            keep_credit=post.get("keep_credit") == "on",
        ),
        scope="payment",
        done="Payment recorded.",
        anchor="payments",
    )


@role_required(*MONEY_ROLES)
@require_POST
def credit_use(request, pk: int):
    return _act(
        request,
        pk,
        lambda i: services.credit_apply(
            invoice=i, actor=request.user, amount=request.POST.get("amount") or None
        ),
        scope="credit",
        done="Credit applied.",
        anchor="payments",
    )


@role_required(*MONEY_ROLES)
@require_POST
def invoice_void(request, pk: int):
    return _act(
        request,
        pk,
        lambda i: services.invoice_void(invoice=i, actor=request.user, reason=request.POST.get("reason", "")),
        scope="void",
        done="Voided.",
    )


@role_required(*MONEY_ROLES)
@require_POST
def credit_note_add(request, pk: int):
    post = request.POST
    return _act(
        request,
        pk,
        lambda i: services.credit_note_issue(
            invoice=i,
            actor=request.user,
            amount=post.get("amount", ""),
            reason=post.get("reason", ""),
            refund=post.get("refund") != "credit",
            method=post.get("method") or Payment.Method.CASH,
            reference=post.get("reference", ""),
        ),
        scope="credit_note",
        done="Credit note issued.",
        anchor="payments",
    )


@role_required(*MONEY_ROLES)
def invoice_pdf(request, pk: int):
    from ..documents.pdf import invoice_pdf as render
    from ..documents.pdf import pdf_response

    invoice = selectors.invoice_for_user(request.user, pk)
    return pdf_response(render(invoice), f"{invoice.number or f'draft-invoice-{invoice.pk}'}.pdf")


urlpatterns = [
    path("invoices/", invoice_list, name="invoice-list"),
    path("payments/", payment_list, name="payment-list"),
    path("invoices/new/", invoice_new, name="invoice-new"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice-detail"),
    path("invoices/<int:pk>/edit/", invoice_edit, name="invoice-edit"),
    path("invoices/<int:pk>/lines/", line_add, name="invoice-line-add"),
    path("invoices/<int:pk>/lines/<int:line_pk>/", line_edit, name="invoice-line-edit"),
    path("invoices/<int:pk>/issue/", invoice_issue, name="invoice-issue"),
    path("invoices/<int:pk>/send/", invoice_send, name="invoice-send"),
    path("invoices/<int:pk>/payments/", payment_add, name="invoice-payment"),
    path("invoices/<int:pk>/credit/", credit_use, name="invoice-credit"),
    path("invoices/<int:pk>/void/", invoice_void, name="invoice-void"),
    path("invoices/<int:pk>/credit-notes/", credit_note_add, name="invoice-credit-note"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="invoice-pdf"),
]

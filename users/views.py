"""The owner's settings: the hub, the business's details (what documents carry) and sales tax rates."""

import mimetypes
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from common.money import ZERO, format_money, percent_of
from common.pdf import render_pdf

from . import services
from .access import role_required
from .forms import BusinessForm, TaxRateForm
from .models import Business, TaxRate
from .roles import Role


@role_required(Role.OWNER)
def settings_hub(request):
    context = {"business": Business.current(), "default_rate": TaxRate.default()}
    return render(request, "users/settings.html", context)


@role_required(Role.OWNER)
@require_http_methods(["GET", "POST"])
def business_settings(request):
    business = Business.objects.order_by("pk").first() or Business(name="Your company")
    form = BusinessForm(request.POST or None, request.FILES or None, instance=business)
    if request.method == "POST" and form.is_valid():
        try:
            services.business_update(business=business, actor=request.user, **form.service_kwargs())
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Business details saved.")
            return redirect("users:business")
    context = {"form": form, "saved": business, "default_rate": TaxRate.default()}
    return render(request, "users/business.html", context)


@role_required(Role.OWNER)
def business_logo(request):
    """The logo as stored (media is not served publicly): the settings page shows it."""
    logo = Business.current().logo
    if not logo:
        raise Http404("No logo.")
    try:
        handle = logo.storage.open(logo.name, "rb")
    except OSError:
        raise Http404("The logo file is missing.") from None
    response = FileResponse(handle, content_type=mimetypes.guess_type(logo.name)[0] or "image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@role_required(Role.OWNER)
def document_preview(request):
    """A made-up invoice on the business's saved details, to see them as a customer will."""
    context = sample_invoice(Business.current(), TaxRate.default())
    pdf = render_pdf("documents/specimen.html", context, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="sample-invoice.pdf"'
    return response


def sample_invoice(business: Business, rate: TaxRate | None) -> dict:
    """The context of documents/specimen.html: two made-up lines, taxed at the default rate."""
    lines = [
        ("Water heater, 50 gal. gas, installed", Decimal("1650.00")),
        ("Expansion tank", Decimal("145.00")),
    ]
    subtotal = sum((price for _, price in lines), ZERO)
    tax = percent_of(subtotal, rate.percent) if rate else ZERO
    today = timezone.localdate()
    return {
        "business": business,
        "number": f"{business.invoice_prefix}-1001",
        "issued_on": today,
        "due_on": today + timedelta(days=business.payment_terms_days),
        "customer_name": "Sample Customer",
        "billing_lines": ["123 Main St", "Austin, TX 78701"],
        "service_lines": ["123 Main St", "Austin, TX 78701"],
        "job_summary": "A sample job",
        "lines": [
            {"name": name, "quantity": 1, "unit_price": _plain(price), "amount": _plain(price)}
            for name, price in lines
        ],
        "subtotal": _plain(subtotal),
        "tax_label": str(rate) if rate else "none",
        "tax": _plain(tax),
        "total": _plain(subtotal + tax),
        "paid": _plain(ZERO),
        "balance": _plain(subtotal + tax),
    }


def _plain(amount: Decimal) -> str:
    return format_money(amount, symbol="")


@role_required(Role.OWNER)
@require_http_methods(["GET", "POST"])
def tax_rates(request):
    form = TaxRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.tax_rate_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{rate} added.")
            return redirect("users:tax-rates")
    rates = TaxRate.objects.order_by("-is_default", "-active", "name")
    return render(request, "users/tax_rates.html", {"form": form, "rates": rates})


@role_required(Role.OWNER)
@require_http_methods(["GET", "POST"])
def tax_rate_edit(request, pk: int):
    rate = get_object_or_404(TaxRate, pk=pk)
    form = TaxRateForm.for_rate(rate, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.tax_rate_update(tax_rate=rate, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{rate} saved.")
            return redirect("users:tax-rates")
    return render(request, "users/tax_rate_form.html", {"form": form, "rate": rate})


TAX_RATE_ACTIONS = {
    "make_default": (services.tax_rate_make_default, "{rate} is now the default."),
    "deactivate": (services.tax_rate_deactivate, "{rate} deactivated: new documents no longer offer it."),
    "activate": (services.tax_rate_activate, "{rate} is active again."),
}


@role_required(Role.OWNER)
@require_POST
def tax_rate_action(request, pk: int):
    """One of the rate's buttons, told apart by the button's name."""
    rate = get_object_or_404(TaxRate, pk=pk)
    action = next((name for name in TAX_RATE_ACTIONS if name in request.POST), None)
    if action is None:
        messages.error(request, "Unknown action.")
        return redirect("users:tax-rates")
    service, done = TAX_RATE_ACTIONS[action]
    try:
        rate = service(tax_rate=rate, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(rate=rate))
    return redirect("users:tax-rates")

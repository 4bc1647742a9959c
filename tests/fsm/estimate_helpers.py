"""Helpers for the money tests: a signature as the canvas sends it, a priced estimate, an issued invoice."""

import base64
import io
from decimal import Decimal

from PIL import Image, ImageDraw

from fsm.documents.lines import LineIn
from fsm.estimates import services as estimates
from fsm.invoices import services as invoices
from fsm.pricebook.models import PricebookItem
from users.models import TaxRate


def signature_data_url(*, blank: bool = False) -> str:
    """A PNG data URL like signature_pad's: transparent, with a stroke unless `blank`."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line(
            [(20, 80), (90, 30), (160, 90), (280, 40)], fill=(27, 36, 48, 255), width=4
        )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def austin_tax() -> TaxRate:
    return TaxRate.objects.get_or_create(
        name="Austin", defaults={"percent": Decimal("8.25"), "is_default": True}
    )[0]


def water_heater_item() -> PricebookItem:
    return PricebookItem.objects.get_or_create(
        code="WH-50G",
        defaults={
            "kind": PricebookItem.Kind.EQUIPMENT,
            "name": "50 gal gas water heater, installed",
            "description": "Remove the old tank, install a new 50 gallon gas heater, haul away.",
            "price": Decimal("1895.00"),
            "cost": Decimal("820.00"),
        },
    )[0]


def good_better_best(*, customer, actor, job=None):
    """Three options with lines, and an add-on on Better."""
    estimate = estimates.estimate_create(
        customer=customer,
        property=customer.properties.first(),
        job=job,
        actor=actor,
        title="Water heater replacement",
        option_names=("Good", "Better", "Best"),
    )
    good, better, best = estimate.options.all()
    item = water_heater_item()
    estimates.line_add(option=good, actor=actor, line=LineIn(), item=item)
    estimates.line_add(
        option=better, actor=actor, line=LineIn(name="Tankless gas heater, installed", unit_price="3450.00")
    )
    estimates.line_add(
        option=better,
        actor=actor,
        line=LineIn(name="Haul away", unit_price="75", taxable=False),
    )
    estimates.line_add(
        option=better,
        actor=actor,
        line=LineIn(name="Expansion tank", unit_price="189.00", is_addon=True),
    )
    estimates.line_add(
        option=best, actor=actor, line=LineIn(name="Tankless, 10-year labour warranty", unit_price="4295")
    )
    estimate.refresh_from_db()
    return estimate


def issued_invoice(*, customer, actor, amount="500.00", job=None):
    invoice = invoices.invoice_create(customer=customer, actor=actor, job=job)
    invoices.invoice_line_add(
        invoice=invoice, actor=actor, line=LineIn(name="Drain cleaning", unit_price=amount)
    )
    return invoices.invoice_issue(invoice=invoice, actor=actor)

"""The demo company's money: estimates in every state and invoices for its completed jobs (some paid, some
partly paid, some overdue). Called from fsm.demo.seed after the jobs (and the pricebook) exist; every
record goes through the services (invoices with the clock at their moment: events.backdate.clock_at)."""

import base64
import io
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from customers.models import Customer
from events.backdate import clock_at
from users.models import TaxRate

from ..estimates import services as estimates
from ..estimates.models import Estimate
from ..invoices import services as invoices
from ..models import Job
from ..pricebook.models import PricebookItem
from .lines import LineIn

# (title, option name, [(typed line, price)]) when the pricebook has nothing better.
TYPED = {
    "Good": [("Standard repair, parts and labour", "289.00")],
    "Better": [("Repair with upgraded parts, 2-year warranty", "449.00")],
    "Best": [("Full replacement, 10-year parts and labour warranty", "1895.00")],
}
TITLES = [
    "Water heater replacement",
    "AC condenser replacement",
    "Panel upgrade to 200 A",
    "Whole-home repipe",
    "Furnace replacement",
    "Tankless conversion",
    "Sewer line repair",
    "Ductless mini-split install",
]
DECLINE_REASONS = ["Went with another company", "Too expensive right now", "Will do it next year"]


def signature_url(rng) -> str:
    image = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    points = [(20 + i * 24, 70 + rng.randint(-28, 28)) for i in range(14)]
    ImageDraw.Draw(image).line(points, fill=(27, 36, 48, 255), width=4, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seed_money(*, rng, log) -> None:
    if not TaxRate.objects.exists():
        TaxRate.objects.create(name="Texas + Austin", percent=Decimal("8.25"), is_default=True)
    items = list(PricebookItem.objects.filter(active=True).order_by("pk"))
    made = _estimates(rng, items)
    issued = _invoices(rng, items)
    log(f"{made} estimates ({_states()}); {issued}.")


def _states() -> str:
    counts = {}
    for state in Estimate.objects.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def _lines(rng, items, option_name: str, rank: int) -> list[tuple[LineIn, PricebookItem | None]]:
    if not items:
        return [(LineIn(name=name, unit_price=price), None) for name, price in TYPED[option_name]]
    ordered = sorted(rng.sample(items, min(len(items), 6)), key=lambda item: item.price)
    picked = ordered[min(rank * 2, len(ordered) - 1) :][:2]
    return [(LineIn(quantity=str(rng.choice([1, 1, 1, 2]))), item) for item in picked]


def _estimates(rng, items) -> int:
    customers = list(
        Customer.objects.filter(merged_into=None, properties__isnull=False, phones__isnull=False)
        .distinct()
        .order_by("pk")[:60]
    )
    rng.shuffle(customers)
    plan = (
        ["draft"] * 2 + ["sent"] * 3 + ["viewed"] * 2 + ["accepted"] * 4 + ["declined"] * 2 + ["expired"] * 2
    )
    made = 0
    for target, customer in zip(plan, customers, strict=False):
        with transaction.atomic():
            estimate = estimates.estimate_create(
                customer=customer,
                property=customer.properties.first(),
                actor=None,
                title=rng.choice(TITLES),
                option_names=("Good", "Better", "Best"),
                message="Thanks for having us out. Here are your options; call with any question.",
            )
            for rank, option in enumerate(estimate.options.all()):
                for line, item in _lines(rng, items, option.name, rank):
                    estimates.line_add(option=option, actor=None, line=line, item=item)
            _move_to(rng, estimate, target)
        made += 1
    return made


def _move_to(rng, estimate: Estimate, target: str) -> None:
    if target == "draft":
        return
    estimate = estimates.estimate_present(estimate=estimate, actor=None)  # "sent", without texting anyone
    if target == "sent":
        return
    estimate = estimates.estimate_viewed(estimate=estimate)
    if target == "accepted":
        option = rng.choice(list(estimate.options.all()))
        estimates.estimate_accept(
            estimate=estimate,
            option_id=option.pk,
            signer_name=str(estimate.customer),
            signature=signature_url(rng),
        )
    elif target == "declined":
        estimates.estimate_decline(estimate=estimate, reason=rng.choice(DECLINE_REASONS))
    elif target == "expired":
        Estimate.objects.filter(pk=estimate.pk).update(
            expires_on=timezone.localdate() - timedelta(days=rng.randint(1, 20))
        )
        estimates.estimates_expire()


def _invoices(rng, items) -> str:
    """The completed jobs' invoices, each issued (and paid) with the clock at its moment, so the ledger
    dates them as they happened: most paid on the spot, some in part, some due soon, some overdue."""
    done = list(
        Job.objects.filter(state=Job.State.COMPLETED).select_related("customer").order_by("completed_at")
    )
    now = timezone.now()
    counts = {"paid": 0, "partly paid": 0, "unpaid": 0, "overdue": 0}
    for i, job in enumerate(done):
        kind = ("paid", "paid", "paid", "partly paid", "unpaid", "overdue")[i % 6]
        issued_at = min((job.completed_at or now) + timedelta(minutes=rng.randint(5, 90)), now)
        with transaction.atomic(), clock_at(issued_at):
            invoice = invoices.invoice_for_job(job=job, actor=None)
            if not invoice.lines.exists():
                for line, item in _lines(rng, items, "Good", rng.randint(0, 1)):
                    invoices.invoice_line_add(invoice=invoice, actor=None, line=line, item=item)
            if kind == "unpaid":  # net 15 (a builder's or a landlord's account); "overdue" was due on receipt
                type(invoice).objects.filter(pk=invoice.pk).update(payment_terms_days=15)
                invoice.refresh_from_db()
            invoice = invoices.invoice_issue(invoice=invoice, actor=None)
            if kind == "paid":
                method = rng.choice(["cash", "check", "card"])
                invoices.payment_record(
                    invoice=invoice,
                    actor=None,
                    method=method,
                    amount=invoice.total,
                    reference=str(rng.randint(1000, 9999)) if method != "cash" else "",
                )
            elif kind == "partly paid":
                invoices.payment_record(
                    invoice=invoice,
                    actor=None,
                    method="card",
                    amount=(invoice.total / 2).quantize(Decimal("0.01")),
                    reference="deposit",
                )
        counts[kind] += 1
    return "invoices: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())

"""Invoices, payments, credit: the state machine and its refusals, immutability once issued, exact money,
and gapless numbers under concurrent issuing on PostgreSQL."""

from decimal import Decimal
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import ApplicationError
from events.models import Event
from fsm.documents.lines import LineIn
from fsm.errors import Forbidden
from fsm.invoices import services as invoices
from fsm.invoices.models import CustomerCredit, Invoice, Payment
from tests.concurrency import at_once
from tests.factories import make_customer

from .estimate_helpers import austin_tax, issued_invoice


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.org"])


@pytest.fixture
def invoice(customer, office):
    return issued_invoice(customer=customer, actor=office, amount="500.00")


def test_issuing_numbers_dates_and_freezes_it(invoice, office):
    assert invoice.state == Invoice.State.ISSUED
    assert invoice.number.startswith("INV-") and invoice.number.endswith("-000001")
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("500.00"),
        Decimal("41.25"),
        Decimal("541.25"),
    )
    assert invoice.due_on == invoice.issued_on  # due on receipt by default
    issued = Event.objects.get(milestone="invoice.issued")
    assert issued.data["total"] == "541.25" and issued.data["lines"] == [
        {"kind": "service", "amount": "500.00", "taxable": True}
    ]
    with pytest.raises(ApplicationError, match="cannot be changed") as refused:
        invoices.invoice_line_add(invoice=invoice, actor=office, line=LineIn(name="More", unit_price="1"))
    assert refused.value.code == "not_draft"
    with pytest.raises(ApplicationError, match="cannot be changed"):
        invoices.invoice_update(invoice=invoice, actor=office, discount="10")
    with pytest.raises(ApplicationError, match="cannot be changed"):
        invoices.invoice_issue(invoice=invoice, actor=office)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("541.25") and invoice.lines.count() == 1


def test_an_empty_draft_cannot_be_issued_and_takes_no_number(customer, office):
    draft = invoices.invoice_create(customer=customer, actor=office)
    with pytest.raises(ApplicationError, match="at least one line"):
        invoices.invoice_issue(invoice=draft, actor=office)
    assert Invoice.objects.get(pk=draft.pk).number is None
    real = issued_invoice(customer=customer, actor=office)
    assert real.number.endswith("-000001")  # the refused issue gave nothing away


def test_partial_then_full_payment(invoice, office):
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="200")
    invoice.refresh_from_db()
    assert (invoice.state, invoice.balance) == (Invoice.State.PARTIALLY_PAID, Decimal("341.25"))
    invoices.payment_record(invoice=invoice, actor=office, method="check", amount="341.25", reference="1042")
    invoice.refresh_from_db()
    assert (invoice.state, invoice.balance) == (Invoice.State.PAID, Decimal("0.00"))
    assert Event.objects.filter(milestone="payment.received").count() == 2
    assert Event.objects.filter(milestone="invoice.paid").count() == 1
    with pytest.raises(ApplicationError, match="already paid in full"):
        invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="1")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"method": "cash", "amount": "0"}, "amount", "more than zero"),
        ({"method": "cash", "amount": "-5"}, "amount", "more than zero"),
        ({"method": "cash", "amount": "10.001"}, "amount", "more than 2 decimal places"),
        ({"method": "check", "amount": "10"}, "reference", "check number"),
        ({"method": "bitcoin", "amount": "10"}, "method", "how the customer paid"),
        ({"method": "cash", "amount": "600"}, "amount", "more than the balance"),
    ],
)
def test_bad_payments_are_refused_and_change_nothing(invoice, office, values, field, message):
    with pytest.raises(ApplicationError, match=message) as refused:
        invoices.payment_record(invoice=invoice, actor=office, **values)
    assert refused.value.field == field
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0 and not Payment.objects.exists() and not CustomerCredit.objects.exists()


def test_an_overpayment_kept_as_credit_pays_the_next_invoice(invoice, customer, office):
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="600", keep_credit=True)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    assert invoices.credit_balance(customer) == Decimal("58.75")
    second = issued_invoice(customer=customer, actor=office, amount="100.00")  # 108.25
    invoices.credit_apply(invoice=second, actor=office)
    second.refresh_from_db()
    assert (second.amount_paid, second.balance) == (Decimal("58.75"), Decimal("49.50"))
    assert invoices.credit_balance(customer) == 0
    with pytest.raises(ApplicationError, match="no credit"):
        invoices.credit_apply(invoice=second, actor=office)


def test_void_only_without_payments_and_a_void_invoice_takes_none(invoice, customer, office):
    with pytest.raises(ApplicationError, match="Say why"):
        invoices.invoice_void(invoice=invoice, actor=office, reason="")
    invoices.invoice_void(invoice=invoice, actor=office, reason="Billed the wrong customer")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.VOID and invoice.balance == 0
    with pytest.raises(ApplicationError, match="void: it cannot be paid"):
        invoices.payment_record(invoice=invoice, actor=office, method="cash", amount="10")
    paid = issued_invoice(customer=customer, actor=office)
    invoices.payment_record(invoice=paid, actor=office, method="cash", amount="10")
    with pytest.raises(ApplicationError, match="without payments"):
        invoices.invoice_void(invoice=paid, actor=office, reason="Oops")


def test_credit_notes_never_exceed_what_was_paid(invoice, customer, office):
    with pytest.raises(ApplicationError, match="money already paid"):
        invoices.credit_note_issue(invoice=invoice, actor=office, amount="10", reason="Goodwill", refund=True)
    invoices.payment_record(
        invoice=invoice, actor=office, method="card", amount="541.25", reference="visa 4242"
    )
    note = invoices.credit_note_issue(
        invoice=invoice, actor=office, amount="100", reason="Late arrival", refund=True
    )
    assert note.number.startswith("CN-") and note.number.endswith("-000001")
    assert Payment.objects.get(credit_note=note).amount == Decimal("-100.00")
    kept = invoices.credit_note_issue(
        invoice=invoice, actor=office, amount="41.25", reason="Coupon", refund=False
    )
    assert kept.number.endswith("-000002") and invoices.credit_balance(customer) == Decimal("41.25")
    with pytest.raises(ApplicationError, match=r"At most \$400.00"):
        invoices.credit_note_issue(
            invoice=invoice, actor=office, amount="400.01", reason="Too much", refund=True
        )


def test_only_the_office_voids_and_credits(invoice, technician, dispatcher):
    for actor in (technician, dispatcher):
        with pytest.raises(Forbidden):
            invoices.invoice_void(invoice=invoice, actor=actor, reason="x")
        with pytest.raises(Forbidden):
            invoices.payment_record(invoice=invoice, actor=actor, method="cash", amount="5")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=60_000), min_size=1, max_size=5))
def test_paid_plus_due_is_the_total_whatever_the_payments(customer, office, cents):
    invoice = issued_invoice(customer=customer, actor=office, amount="500.00")
    for amount in cents:
        amount = Decimal(amount).scaleb(-2)
        invoice.refresh_from_db()
        if invoice.state == Invoice.State.PAID:
            break
        try:
            invoices.payment_record(invoice=invoice, actor=office, method="cash", amount=amount)
        except ApplicationError as error:
            assert error.code == "overpayment" and amount > invoice.balance
        invoice.refresh_from_db()
        assert invoice.amount_paid + invoice.balance == invoice.total
        assert invoice.amount_paid == sum(p.applied for p in invoice.payments.all())


# --- Concurrent issuing on PostgreSQL ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_gapless_and_unique_under_concurrent_issuing(require_postgres, business, office):
    austin_tax()
    customer = make_customer(actor=office)
    drafts = []
    for i in range(16):
        draft = invoices.invoice_create(customer=customer, actor=office)
        invoices.invoice_line_add(
            invoice=draft, actor=office, line=LineIn(name=f"Work {i}", unit_price="100")
        )
        drafts.append(draft)

    def issue(chunk):
        for draft in chunk:
            invoices.invoice_issue(invoice=draft, actor=office)

    at_once([partial(issue, drafts[i::8]) for i in range(8)])
    numbers = sorted(int(n[-6:]) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 17))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(min_value=1, max_value=54_125),
    st.lists(st.tuples(st.integers(min_value=1, max_value=60_000), st.booleans()), min_size=1, max_size=4),
)
def test_credit_notes_never_exceed_what_was_paid_whatever_the_amounts(customer, office, paid_cents, notes):
    invoice = issued_invoice(customer=customer, actor=office, amount="500.00")  # 541.25
    paid = Decimal(paid_cents).scaleb(-2)
    invoices.payment_record(invoice=invoice, actor=office, method="cash", amount=paid)
    for cents, refund in notes:
        amount = Decimal(cents).scaleb(-2)
        try:
            invoices.credit_note_issue(
                invoice=invoice, actor=office, amount=amount, reason="Goodwill", refund=refund
            )
        except ApplicationError as error:
            assert error.code == "over_paid" or "already paid" in error.message
        invoice.refresh_from_db()
        credited = sum(note.amount for note in invoice.credit_notes.all())
        assert credited == invoice.amount_credited <= invoice.amount_paid == paid

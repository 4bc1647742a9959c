"""Bank deposits: payments waiting in undeposited funds (or card clearing) taken to the bank as one entry,
each payment once. Figures worked by hand in the comments."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from finance import selectors
from finance import services as ledger
from finance.models import Deposit, DepositItem, JournalEntry, JournalLine
from fsm.invoices import services as invoices
from tests.factories import make_customer
from tests.finance.helpers import deposit, slip
from tests.finance.test_ledger import deliver
from tests.fsm.estimate_helpers import austin_tax, issued_invoice

D = Decimal


def test_a_deposit_posts_dr_bank_cr_undeposited_funds_and_balances(waiting, owner):
    made = deposit([waiting["a1"], waiting["a2"]], actor=owner)
    # 500.00 + 216.50 = 716.50 to the bank; 82.25 (Bob's) still waits in undeposited funds
    lines = {line.account.role: (line.debit, line.credit) for line in made.entry.lines.all()}
    assert lines == {"bank": (D("716.50"), D("0.00")), "undeposited": (D("0.00"), D("716.50"))}
    assert made.entry.source == "deposit" and made.entry.date == date(2026, 3, 5)
    assert made.entry.posted_by == owner and made.entry.memo == "Deposit of 2 payments"
    assert (made.total, made.fees, made.net, made.items.count()) == (D("716.50"), 0, D("716.50"), 2)
    assert ledger.balance_of("bank") == D("716.50")
    assert ledger.balance_of("undeposited") == D("82.25")  # 798.75 received - 716.50 deposited
    assert sum(ledger.trial_balance().values()) == 0


def test_a_card_payout_sends_the_net_to_the_bank_and_the_fees_to_card_fees(waiting, owner):
    made = deposit([waiting["card"]], cleared="card_clearing", fees=D("3.78"), actor=owner)
    # 120.00 paid out less 3.78 kept by the processor (2.9% + 0.30 = 3.48 + 0.30) = 116.22 in the bank
    lines = {line.account.role: (line.debit, line.credit) for line in made.entry.lines.all()}
    assert lines == {
        "bank": (D("116.22"), D("0.00")),
        "card_fees": (D("3.78"), D("0.00")),
        "card_clearing": (D("0.00"), D("120.00")),
    }
    assert made.net == D("116.22") and ledger.balance_of("card_clearing") == D("0.00")


def test_fees_are_for_card_payouts_and_less_than_the_payout(waiting):
    with pytest.raises(ApplicationError, match="card processor"):
        deposit([waiting["a1"]], fees=D("1.00"))
    with pytest.raises(ApplicationError, match="less than the payout"):
        deposit([waiting["card"]], cleared="card_clearing", fees=D("120.00"))
    assert not Deposit.objects.exists() and not JournalEntry.objects.filter(source="deposit").exists()


def test_the_same_payment_cannot_be_deposited_twice(waiting):
    deposit([waiting["a1"]], key="tab-1")
    with pytest.raises(ApplicationError, match="deposited meanwhile"):
        deposit([waiting["a1"], waiting["a2"]], key="tab-2")
    assert Deposit.objects.count() == 1 and JournalEntry.objects.filter(source="deposit").count() == 1
    assert ledger.balance_of("bank") == D("500.00")


def test_the_database_refuses_a_second_item_for_the_same_payment_line(waiting):
    first = deposit([waiting["a1"]], key="tab-1")
    second = deposit([waiting["a2"]], key="tab-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositItem.objects.create(deposit=second, line=waiting["a1"], amount=D("500.00"))
    assert DepositItem.objects.get(line=waiting["a1"]).deposit == first


def test_the_same_form_submitted_twice_deposits_once(waiting):
    first = deposit([waiting["a1"]], key="same")
    assert deposit([waiting["a1"]], key="same") == first
    assert Deposit.objects.count() == 1


def test_a_deposit_in_a_locked_month_is_refused_and_nothing_is_written(waiting, owner):
    ledger.period_lock(month=date(2026, 3, 1), actor=owner)
    with pytest.raises(ApplicationError, match="March 2026 is locked"):
        deposit([waiting["a1"]], day=date(2026, 3, 31))
    assert not Deposit.objects.exists() and not JournalEntry.objects.filter(source="deposit").exists()


def test_a_deposit_dated_after_today_or_before_a_payment_it_holds_is_refused(waiting):
    with pytest.raises(ApplicationError, match="not after today"):
        deposit([waiting["a1"]], day=ledger.today() + timedelta(days=1))
    with pytest.raises(ApplicationError, match="received Mar 2, 2026"):
        deposit([waiting["a1"], waiting["a2"]], day=date(2026, 3, 1))
    assert not Deposit.objects.exists()


def test_only_payments_waiting_in_the_chosen_account_can_be_ticked(waiting):
    with pytest.raises(ApplicationError, match="Tick only payments waiting in undeposited funds"):
        deposit([waiting["a1"], waiting["card"]])
    ar_line = JournalLine.objects.get(entry__idempotency_key="p-a1", account__role="ar")
    with pytest.raises(ApplicationError, match="Tick only payments"):
        deposit([ar_line])
    with pytest.raises(ApplicationError, match="Tick the payments"):
        deposit([])


def test_the_waiting_list_leaves_out_what_is_deposited_and_the_other_clearing_account(waiting):
    deposit([waiting["a1"]])
    assert [p.line for p in selectors.undeposited_payments(cleared="undeposited")] == [
        waiting["a2"],
        waiting["b1"],
    ]
    assert [p.line for p in selectors.undeposited_payments(cleared="card_clearing")] == [waiting["card"]]
    assert selectors.undeposited_totals() == {
        "undeposited": (2, D("298.75")),  # 216.50 + 82.25
        "card_clearing": (1, D("120.00")),
    }


# --- The pages ------------------------------------------------------------------------------------------

DEPOSIT_PAGES = ["/finance/deposits/", "/finance/deposits/new/", "/finance/deposits/new/?from=card_clearing"]


@pytest.mark.parametrize("role", ["office", "dispatcher", "technician", "outsider"])
def test_only_the_owner_opens_the_deposit_pages(waiting, personas, client_for, role):
    client = client_for(personas[role])
    for url in DEPOSIT_PAGES:
        assert client.get(url).status_code == 403, url
    refused = client.post("/finance/deposits/new/", {"cleared": "undeposited", "lines": [waiting["a1"].pk]})
    assert refused.status_code == 403 and not Deposit.objects.exists()


def test_the_owner_opens_the_deposit_pages(waiting, owner, client_for):
    for url in DEPOSIT_PAGES:
        assert client_for(owner).get(url).status_code == 200, url
    assert 'href="/finance/deposits/"' in client_for(owner).get("/finance/").content.decode()


def test_the_page_lists_only_the_payments_not_yet_deposited(waiting, owner, client_for):
    client = client_for(owner)
    page = client.get("/finance/deposits/new/").content.decode()
    assert "Ann Archer" in page and "$500.00" in page and "$82.25" in page and "$120.00" not in page
    response = client.post("/finance/deposits/new/", slip([waiting["a1"]]), follow=True)
    assert "Deposit of $500.00 into Business checking posted" in response.content.decode()
    page = client.get("/finance/deposits/new/").content.decode()
    assert f'value="{waiting["a1"].pk}"' not in page and f'value="{waiting["a2"].pk}"' in page
    listed = client.get("/finance/deposits/").content.decode()
    entry = Deposit.objects.get().entry_id
    assert f'href="/finance/journal/?entry={entry}"' in listed and "$500.00" in listed
    assert f"HS-{entry}" in client.get(f"/finance/journal/?entry={entry}").content.decode()


def test_a_second_tab_posting_a_payment_already_deposited_gets_a_form_error(waiting, owner, client_for):
    client = client_for(owner)
    assert client.post("/finance/deposits/new/", slip([waiting["a1"]], key="tab-1")).status_code == 302
    response = client.post("/finance/deposits/new/", slip([waiting["a1"], waiting["a2"]], key="tab-2"))
    assert response.status_code == 400 and "deposited meanwhile" in response.content.decode()
    assert Deposit.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"lines": []}, "Tick the payments on the deposit slip"),
        ({"day": "2026-03-31"}, "March 2026 is locked"),
        ({"day": "2999-01-01"}, "not after today"),
    ],
)
def test_bad_deposit_input_is_a_form_error_and_nothing_is_posted(waiting, owner, client_for, data, message):
    ledger.period_lock(month=date(2026, 3, 1), actor=owner)
    lines = data.pop("lines", [waiting["a1"]])
    response = client_for(owner).post("/finance/deposits/new/", slip(lines, **data))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Deposit.objects.exists() and not JournalEntry.objects.filter(source="deposit").exists()


def test_the_slip_shows_the_check_number_the_payment_milestone_carried(business, office, owner, client_for):
    austin_tax()
    customer = make_customer(actor=office, first_name="Cora", last_name="Cole")
    invoice = issued_invoice(customer=customer, actor=office, amount="100.00")  # 108.25 with tax
    invoices.payment_record(invoice=invoice, actor=office, method="check", amount="108.25", reference="1042")
    deliver()
    [waiting] = selectors.undeposited_payments(cleared="undeposited")
    assert (waiting.customer, waiting.method, waiting.reference) == ("Cora Cole", "Check", "1042")
    assert waiting.invoice_number == invoice.number and waiting.amount == D("108.25")
    page = client_for(owner).get("/finance/deposits/new/").content.decode()
    assert "#1042" in page and invoice.number in page


def test_a_deposits_entry_is_not_reversed_from_the_journal(waiting, owner):
    made = deposit([waiting["a1"]])
    with pytest.raises(ApplicationError, match="bank deposit"):
        ledger.journal_entry_reverse(entry=made.entry, actor=owner)
    assert not JournalEntry.objects.filter(reverses=made.entry).exists()

"""Undoing a deposit recorded by mistake: a reversing entry puts its payments back to wait, to be
deposited again. Figures worked by hand in the comments (the `waiting` payments: Ann 500.00 on Feb 20 and
216.50 on Mar 2, Bob 82.25 on Mar 3 in undeposited funds, Bob 120.00 by card on Mar 4)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from common.errors import ApplicationError
from events.models import Event
from finance import reports, selectors
from finance import services as ledger
from finance.models import Deposit, DepositItem, DepositUndo, DepositUndoItem, JournalEntry
from tests.finance.helpers import MARCH_5, deposit, invoice, slip

D = Decimal


def undo(made: Deposit, *, key="u1", reason="Wrong checks ticked", actor=None) -> DepositUndo:
    return ledger.deposit_undo(deposit=made, reason=reason, key=key, actor=actor)


def waiting_lines(cleared="undeposited"):
    return [p.line for p in selectors.undeposited_payments(cleared=cleared)]


def test_an_undo_reverses_the_deposit_and_puts_each_payment_back_to_wait(waiting, owner):
    made = deposit([waiting["a1"], waiting["a2"]], actor=owner)
    undone = undo(made, actor=owner)
    entry = undone.entry
    assert (entry.source, entry.reverses, entry.date) == ("deposit.undone", made.entry, made.date)
    assert entry.memo == f"Deposit HS-{made.entry_id} of Mar 5, 2026 undone: Wrong checks ticked"
    # Dr undeposited once per payment (its customer and invoice copied), Cr the bank the 716.50
    lines = [(line.account.role, line.debit, line.credit, line.customer_id) for line in entry.lines.all()]
    ann = waiting["ann"].pk
    assert lines == [
        ("undeposited", D("500.00"), D("0.00"), ann),
        ("undeposited", D("216.50"), D("0.00"), ann),
        ("bank", D("0.00"), D("716.50"), None),
    ]
    assert ledger.balance_of("bank") == D("0.00")
    assert ledger.balance_of("undeposited") == D("798.75")  # 500.00 + 216.50 + 82.25: all waiting again
    assert sum(ledger.trial_balance().values()) == 0
    assert (undone.reason, undone.created_by, undone.items.count()) == ("Wrong checks ticked", owner, 2)


def test_the_payments_wait_again_as_they_were_received(waiting):
    undo(deposit([waiting["a1"], waiting["a2"]]))
    listed = selectors.undeposited_payments(cleared="undeposited")
    # Oldest received first: Ann's Feb 20 and Mar 2 payments (back from the Mar 5 deposit), Bob's Mar 3
    assert [(p.customer, p.amount, p.received, p.back_from) for p in listed] == [
        ("Ann Archer", D("500.00"), date(2026, 2, 20), MARCH_5),
        ("Ann Archer", D("216.50"), date(2026, 3, 2), MARCH_5),
        ("Bob Baker", D("82.25"), date(2026, 3, 3), None),
    ]
    assert listed[0].line != waiting["a1"] and listed[2].line == waiting["b1"]
    assert selectors.undeposited_totals() == {
        "undeposited": (3, D("798.75")),
        "card_clearing": (1, D("120.00")),
    }


def test_undone_payments_are_deposited_again_and_the_books_stay_right(waiting, owner):
    invoice(date(2026, 2, 10), "i1", waiting["ann"].pk, 1, "716.50")
    invoice(date(2026, 2, 11), "i2", waiting["bob"].pk, 2, "202.25")
    today = ledger.today()
    aging_before = reports.ar_aging(as_of=today).total
    cash_before = selectors.cash_collected(start=date(2026, 1, 1), end=today)
    undo(deposit([waiting["a1"], waiting["a2"]], key="wrong"))
    again = deposit(waiting_lines()[:2], key="right", day=date(2026, 3, 6))
    # The same two payments, 716.50, in the bank once; Bob's 82.25 still waiting
    assert again.total == D("716.50") and again.items.count() == 2
    assert ledger.balance_of("bank") == D("716.50")
    assert ledger.balance_of("undeposited") == D("82.25")
    assert selectors.undeposited_totals()["undeposited"] == (1, D("82.25"))
    assert waiting_lines() == [waiting["b1"]]
    assert sum(ledger.trial_balance().values()) == 0
    tb = reports.trial_balance(as_of=today)
    assert tb.debits == tb.credits and tb.debit_balances == tb.credit_balances
    # AR never moved (deposits are between the clearing account and the bank): 918.75 - 918.75 paid = 0
    assert reports.ar_aging(as_of=today).total == aging_before == D("0.00")
    assert ledger.balance_of("ar") == D("0.00")
    # Cash collected counts the payments once, not again when put back
    assert selectors.cash_collected(start=date(2026, 1, 1), end=today) == cash_before == D("918.75")


def test_a_redeposit_checks_the_date_the_payment_was_received_not_the_day_of_the_undo(waiting):
    undo(deposit([waiting["a1"], waiting["a2"]]))
    back = waiting_lines()[:2]  # dated the deposit's day (the undo's), received Feb 20 and Mar 2
    with pytest.raises(ApplicationError, match="received Mar 2, 2026"):
        deposit(back, key="too-early", day=date(2026, 3, 1))
    assert deposit(back, key="bank-day", day=MARCH_5).date == MARCH_5  # the bank's day


def test_a_card_payouts_undo_takes_the_fees_back_too(waiting):
    made = deposit([waiting["card"]], cleared="card_clearing", fees=D("3.78"))
    lines = {line.account.role: (line.debit, line.credit) for line in undo(made).entry.lines.all()}
    assert lines == {
        "card_clearing": (D("120.00"), D("0.00")),
        "bank": (D("0.00"), D("116.22")),
        "card_fees": (D("0.00"), D("3.78")),
    }
    assert ledger.balance_of("card_fees") == ledger.balance_of("bank") == D("0.00")
    assert ledger.balance_of("card_clearing") == D("120.00")
    assert waiting_lines("card_clearing")[0].debit == D("120.00")


def test_the_same_undo_submitted_twice_undoes_once(waiting):
    made = deposit([waiting["a1"]])
    first = undo(made, key="same")
    assert undo(made, key="same") == first
    assert (
        DepositUndo.objects.count() == 1 and JournalEntry.objects.filter(source="deposit.undone").count() == 1
    )


def test_a_second_undo_of_the_same_deposit_is_refused(waiting):
    made = deposit([waiting["a1"]])
    first = undo(made, key="tab-1")
    with pytest.raises(ApplicationError, match=f"already undone \\(HS-{first.entry_id}\\)"):
        undo(made, key="tab-2")
    assert DepositUndo.objects.count() == 1 and JournalEntry.objects.filter(reverses=made.entry).count() == 1
    assert ledger.balance_of("undeposited") == D("798.75")


def test_an_undo_needs_a_reason_and_writes_nothing_without_one(waiting):
    made = deposit([waiting["a1"]])
    with pytest.raises(ApplicationError, match="Say why") as refused:
        undo(made, reason="   ")
    assert refused.value.field == "reason"
    assert not DepositUndo.objects.exists() and not JournalEntry.objects.filter(reverses=made.entry).exists()


def test_a_long_reason_is_kept_to_300_characters(waiting):
    assert undo(deposit([waiting["a1"]]), reason="Wrong bank " * 40).reason == ("Wrong bank " * 40)[:300]


def test_an_undo_in_a_locked_month_posts_on_the_first_open_day(waiting, owner):
    made = deposit([waiting["a1"]])  # on March 5
    ledger.period_lock(month=MARCH_5, actor=owner)
    entry = undo(made).entry
    first_open = date(2026, 4, 1)
    assert ledger.undo_date(made) == first_open
    assert entry.date == first_open and "that month is locked" in entry.memo
    assert {line.date for line in entry.lines.all()} == {first_open}
    assert ledger.balance_of("undeposited") == D("798.75")  # waiting again (for a deposit in an open month)


def test_an_undone_payment_can_be_undone_and_deposited_again_and_again(waiting):
    undo(deposit([waiting["a1"]], key="d1"), key="u1")
    second = deposit(waiting_lines()[:1], key="d2")
    undo(second, key="u2")
    [back] = [p for p in selectors.undeposited_payments(cleared="undeposited") if p.amount == D("500.00")]
    assert back.received == date(2026, 2, 20) and back.customer == "Ann Archer"
    assert DepositUndoItem.objects.get(line=back.line).payment == waiting["a1"]  # the payment it started from
    deposit([back.line], key="d3")
    assert ledger.balance_of("bank") == D("500.00") and ledger.balance_of("undeposited") == D("298.75")
    assert sum(ledger.trial_balance().values()) == 0


def test_the_undo_is_on_the_audit_trail(waiting, owner):
    made = deposit([waiting["a1"]])
    undone = undo(made, actor=owner)
    event = Event.objects.get(code="finance.deposit.undone")
    assert event.actor == owner and event.data["deposit_id"] == made.pk
    assert event.data["entry_id"] == undone.entry_id and "Wrong checks ticked" in event.summary


def test_neither_the_undo_nor_the_redeposit_is_reversed_from_the_journal(waiting, owner):
    undone = undo(deposit([waiting["a1"]]))
    with pytest.raises(ApplicationError, match="is a reversal"):
        ledger.journal_entry_reverse(entry=undone.entry, actor=owner)
    again = deposit(waiting_lines()[:1], key="again")
    with pytest.raises(ApplicationError, match="bank deposit"):
        ledger.journal_entry_reverse(entry=again.entry, actor=owner)


def test_the_database_keeps_one_live_deposit_per_payment(waiting):
    """A payment line is deposited once (DepositItem.line), a deposit undone once (DepositUndo.deposit,
    JournalEntry.reverses) and each of its items put back once (DepositUndoItem.item): a payment is in
    at most one deposit that is not undone."""
    first = deposit([waiting["a1"]], key="d1")
    undone = undo(first)
    again = deposit(waiting_lines()[:1], key="d2")
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositItem.objects.create(deposit=again, line=waiting["a1"], amount=D("500.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositUndo.objects.create(deposit=first, entry=again.entry, reason="twice")
    with pytest.raises(IntegrityError), transaction.atomic():
        item = first.items.get()
        DepositUndoItem.objects.create(undo=undone, item=item, line=waiting["a2"], payment=waiting["a2"])


@pytest.mark.django_db(transaction=True)
def test_two_tabs_undoing_the_same_deposit_at_once_undo_it_once(require_postgres, waiting):
    made = deposit([waiting["a1"], waiting["a2"]])
    barrier, outcomes = threading.Barrier(4), []

    def undo_in_a_tab(key):
        try:
            barrier.wait()
            outcomes.append(undo(made, key=key).pk)
        except ApplicationError as error:
            outcomes.append(error.message)
        except Exception as error:  # an IntegrityError or a deadlock would be a 500
            outcomes.append(error)
        finally:
            connection.close()

    # Two tabs, each submitting its form twice at once
    keys = ("tab-1", "tab-1", "tab-2", "tab-2")
    threads = [threading.Thread(target=undo_in_a_tab, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    undone = DepositUndo.objects.get()
    refused = f"This deposit is already undone (HS-{undone.entry_id}): its payments are waiting again."
    assert sorted(map(str, outcomes)) == sorted([str(undone.pk)] * 2 + [refused] * 2), outcomes
    assert JournalEntry.objects.filter(reverses=made.entry).count() == 1
    assert ledger.balance_of("undeposited") == D("798.75") and sum(ledger.trial_balance().values()) == 0


def test_an_undo_is_never_changed_or_deleted(require_postgres, waiting):  # PostgreSQL's triggers
    undone = undo(deposit([waiting["a1"]]))
    for change in (
        lambda: DepositUndo.objects.filter(pk=undone.pk).update(reason="edited"),
        lambda: DepositUndoItem.objects.filter(undo=undone).delete(),
    ):
        with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
            change()


# --- The pages ------------------------------------------------------------------------------------------


def test_the_owner_undoes_a_deposit_and_its_payments_wait_on_the_slip_again(waiting, owner, client_for):
    client = client_for(owner)
    client.post("/finance/deposits/new/", slip([waiting["a1"], waiting["a2"]]))
    made = Deposit.objects.get()
    listed = client.get("/finance/deposits/").content.decode()
    assert f'href="/finance/deposits/{made.pk}/undo/"' in listed
    confirm = client.get(f"/finance/deposits/{made.pk}/undo/").content.decode()
    assert "Ann Archer" in confirm and "$216.50" in confirm and "Feb 20, 2026" in confirm
    response = client.post(
        f"/finance/deposits/{made.pk}/undo/", {"reason": "Wrong bank", "key": "k"}, follow=True
    )
    undone = DepositUndo.objects.get()
    page = response.content.decode()
    assert f"Deposit of $716.50 into Business checking undone (HS-{undone.entry_id})" in page
    assert 'data-testid="undone-deposit"' in page and f"?entry={undone.entry_id}" in page
    assert "Wrong bank" in page and "<del" in page and f'/finance/deposits/{made.pk}/undo/"' not in page
    assert "<strong>3</strong> payments in undeposited funds" in page
    slip_page = client.get("/finance/deposits/new/").content.decode()
    assert slip_page.count('name="lines"') == 3 and "Back from the Mar 5 deposit (undone)" in slip_page


def test_an_undo_without_a_reason_is_a_form_error(waiting, owner, client_for):
    made = deposit([waiting["a1"]])
    response = client_for(owner).post(f"/finance/deposits/{made.pk}/undo/", {"reason": " ", "key": "k"})
    assert response.status_code == 400 and "Say why the deposit is undone" in response.content.decode()
    assert not DepositUndo.objects.exists()


def test_the_undo_form_posted_twice_undoes_once_and_another_undo_is_refused(waiting, owner, client_for):
    made = deposit([waiting["a1"]])
    client = client_for(owner)
    url = f"/finance/deposits/{made.pk}/undo/"
    assert client.post(url, {"reason": "Wrong bank", "key": "k"}).status_code == 302
    assert client.post(url, {"reason": "Wrong bank", "key": "k"}).status_code == 302
    refused = client.post(url, {"reason": "Again", "key": "other-tab"})
    assert refused.status_code == 400 and "already undone" in refused.content.decode()
    assert DepositUndo.objects.count() == 1 and JournalEntry.objects.filter(reverses=made.entry).count() == 1
    assert 'data-testid="undone"' in client.get(url).content.decode()  # no form on an undone deposit


@pytest.mark.parametrize("role", ["office", "dispatcher", "technician", "outsider"])
def test_only_the_owner_undoes_a_deposit(waiting, personas, client_for, role):
    made = deposit([waiting["a1"]])
    client = client_for(personas[role])
    assert client.get(f"/finance/deposits/{made.pk}/undo/").status_code == 403
    refused = client.post(f"/finance/deposits/{made.pk}/undo/", {"reason": "Mine", "key": "k"})
    assert refused.status_code == 403 and not DepositUndo.objects.exists()


def test_undoing_a_deposit_that_is_not_there_is_a_404(waiting, owner, client_for):
    assert (
        client_for(owner).post("/finance/deposits/999999/undo/", {"reason": "x", "key": "k"}).status_code
        == 404
    )


def test_the_books_on_the_deposit_s_own_day_read_as_if_it_had_never_been_made(waiting):
    """The undo posts on the deposit's date (its month open): no day on which the bank holds the money
    twice or the clearing account goes below nothing, even when the redeposit is dated the bank's day."""
    undo(deposit([waiting["a1"], waiting["a2"]]))
    deposit(waiting_lines()[:2], key="again", day=MARCH_5)
    for day in (date(2026, 3, 4), MARCH_5, date(2026, 3, 6)):
        rows = {row.account.role: row.balance for row in reports.trial_balance(as_of=day).rows}
        assert rows.get("undeposited", D("0")) >= 0, day
    on_the_day = {row.account.role: row.balance for row in reports.trial_balance(as_of=MARCH_5).rows}
    assert on_the_day["bank"] == D("716.50"), "deposited once, not twice"

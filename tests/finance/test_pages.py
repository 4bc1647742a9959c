"""The finance pages: who may open them, the CSVs (same figures), the exports, bad input, period locks,
manual entries and the chart of accounts."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from events.models import Event
from finance import services as ledger
from finance.models import Account, JournalEntry, PeriodLock
from finance.services import LineIn

D = Decimal
REPORTS = [
    "/finance/",
    "/finance/trial-balance/",
    "/finance/profit-and-loss/",
    "/finance/balance-sheet/",
    "/finance/ledger/1200/",
    "/finance/sales-tax/",
    "/finance/periods/",
    "/finance/journal/",
    "/finance/journal/new/",
    "/finance/accounts/",
    "/finance/export/quickbooks.csv?start=2026-01-01&end=2026-01-31",
    "/finance/export/xero.csv?start=2026-01-01&end=2026-01-31",
]


def rows_of(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("url", [*REPORTS, "/finance/ar-aging/"])
def test_the_owner_opens_every_finance_page(business, owner, client_for, url):
    ledger.chart_install()  # a flush by another test may have emptied the chart
    assert client_for(owner).get(url).status_code == 200


@pytest.mark.parametrize("url", REPORTS)
def test_the_office_sees_ar_aging_only(business, office, client_for, url):
    client = client_for(office)
    assert client.get(url).status_code == 403
    assert client.get("/finance/ar-aging/").status_code == 200


@pytest.mark.parametrize("role", ["dispatcher", "technician"])
def test_dispatchers_and_technicians_see_no_finance_page(business, personas, client_for, role):
    client = client_for(personas[role])
    for url in [*REPORTS, "/finance/ar-aging/", "/finance/ar-aging/?download=csv"]:
        assert client.get(url).status_code == 403, url


def test_finance_is_in_the_owners_account_menu_and_ar_aging_in_the_offices(
    business, owner, office, client_for
):
    assert 'href="/finance/"' in client_for(owner).get("/dashboard/").content.decode()
    office_page = client_for(office).get("/customers/").content.decode()
    assert 'href="/finance/"' not in office_page and 'href="/finance/ar-aging/"' in office_page


@pytest.mark.parametrize(
    "url",
    [
        "/finance/profit-and-loss/?start=2026-03-31&end=2026-03-01",
        "/finance/sales-tax/?start=2026-03-31&end=2026-03-01",
        "/finance/ledger/1200/?start=2026-03-31&end=2026-03-01",
    ],
)
def test_a_range_that_ends_before_it_starts_is_a_form_error_and_nothing_else(books, owner, client_for, url):
    response = client_for(owner).get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "ends before it starts" in page and "<tbody" not in page and "Download CSV" not in page
    assert client_for(owner).get(url + "&download=csv").status_code == 400


def test_a_date_that_is_not_a_date_is_a_form_error(business, owner, client_for):
    response = client_for(owner).get("/finance/trial-balance/?as_of=yesterday")
    assert response.status_code == 400 and "Enter a valid date" in response.content.decode()
    bad = client_for(owner).get("/finance/export/xero.csv?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 400 and b"ends before it starts" in bad.content


def test_each_report_downloads_the_figures_it_shows(books, owner, client_for):
    client = client_for(owner)
    tb = rows_of(client.get("/finance/trial-balance/?as_of=2026-03-31&download=csv"))
    assert tb[0] == ["Code", "Account", "Debits", "Credits", "Debit balance", "Credit balance"]
    assert ["1200", "Accounts receivable", "1399.00", "500.00", "899.00", "0.00"] in tb
    assert tb[-1] == ["", "Total", "11929.00", "11929.00", "11399.00", "11399.00"]
    page = client.get("/finance/trial-balance/?as_of=2026-03-31").content.decode()
    assert "$11,399.00" in page and "?as_of=2026-03-31&amp;download=csv" in page

    pl = rows_of(client.get("/finance/profit-and-loss/?start=2026-03-01&end=2026-03-31&download=csv"))
    assert pl[0][4:] == ["2026-03-01 to 2026-03-31", "2026-01-29 to 2026-02-28"]
    assert pl[-1] == ["", "", "", "Net income", "170.00", "1000.00"]

    bs = rows_of(client.get("/finance/balance-sheet/?as_of=2026-03-31&download=csv"))
    assert ["Assets", "", "", "Total assets", "11369.00", "11182.50"] in bs
    assert bs[-1] == ["", "", "", "Total liabilities and equity", "11369.00", "11182.50"]

    aging = rows_of(client.get("/finance/ar-aging/?as_of=2026-03-31&download=csv"))
    assert aging[0] == [
        "Customer",
        "Customer ID",
        "Invoices",
        "Current",
        "1-30",
        "31-60",
        "61-90",
        "Over 90",
        "Total",
    ]
    assert aging[1][0] == "Ann Archer" and aging[1][3:] == [
        "0.00",
        "0.00",
        "582.50",
        "0.00",
        "100.00",
        "682.50",
    ]
    assert aging[-1] == ["Total", "", "", "0.00", "216.50", "582.50", "0.00", "100.00", "899.00"]

    tax = rows_of(client.get("/finance/sales-tax/?start=2026-01-01&end=2026-03-31&download=csv"))
    assert tax == [
        ["Month", "Rate (%)", "Collected", "Reversed", "Net"],
        ["2026-02", "8.25", "82.50", "0.00", "82.50"],
        ["2026-03", "8.25", "16.50", "0.00", "16.50"],
    ]

    gl = rows_of(client.get("/finance/ledger/1200/?start=2026-02-01&end=2026-02-28&download=csv"))
    assert gl[1] == ["2026-02-01", "", "Opening balance", "", "", "100.00"]
    assert [row[5] for row in gl[2:-1]] == ["1182.50", "682.50"]
    assert gl[-1] == ["2026-02-28", "", "Closing balance", "1082.50", "500.00", "682.50"]


def test_quickbooks_export_has_its_columns_and_one_row_per_line(books, owner, client_for):
    rows = rows_of(client_for(owner).get("/finance/export/quickbooks.csv?start=2026-02-01&end=2026-02-28"))
    assert rows[0] == ["JournalNo", "JournalDate", "AccountName", "Debits", "Credits", "Description", "Name"]
    entry = JournalEntry.objects.get(idempotency_key="i1")
    assert rows[1:4] == [
        [f"HS-{entry.pk}", "02/10/2026", "Accounts receivable", "1082.50", "", "Invoice 1", "Ann Archer"],
        [f"HS-{entry.pk}", "02/10/2026", "Service revenue", "", "1000.00", "Invoice 1", "Ann Archer"],
        [f"HS-{entry.pk}", "02/10/2026", "Sales tax payable", "", "82.50", "Invoice 1", "Ann Archer"],
    ]
    assert len(rows) == 1 + 3 + 2  # the invoice's three lines and the payment's two


def test_xero_export_signs_amounts_and_each_journal_balances(books, owner, client_for):
    rows = rows_of(client_for(owner).get("/finance/export/xero.csv?start=2025-12-01&end=2026-03-31"))
    assert rows[0] == ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"]
    entry = JournalEntry.objects.get(idempotency_key="i1")
    assert [
        f"HS-{entry.pk} Invoice 1",
        "10/02/2026",
        "Accounts receivable - Ann Archer",
        "1200",
        "Tax Exempt",
        "1082.50",
    ] in rows
    assert [
        f"HS-{entry.pk} Invoice 1",
        "10/02/2026",
        "Service revenue - Ann Archer",
        "4010",
        "Tax Exempt",
        "-1000.00",
    ] in rows
    totals: dict[str, Decimal] = {}
    for narration, *_, amount in rows[1:]:
        totals[narration] = totals.get(narration, D("0")) + D(amount)
    assert len(totals) == 6 and set(totals.values()) == {D("0")}


def test_export_cells_cannot_run_as_formulas(business, owner, client_for):
    ledger.journal_entry_manual(
        day=date(2026, 1, 2),
        memo="=HYPERLINK(1)",
        lines=[LineIn("bank", debit=D("1")), LineIn("equity", credit=D("1"))],
        key="f",
    )
    rows = rows_of(client_for(owner).get("/finance/export/quickbooks.csv?start=2026-01-01&end=2026-01-31"))
    assert rows[1][5] == "'=HYPERLINK(1)"


def test_the_owner_locks_and_unlocks_a_month_and_the_unlock_is_on_the_audit_trail(
    business, owner, client_for
):
    client = client_for(owner)
    assert client.post("/finance/periods/", {"month": "2026-01-01", "lock": "1"}).status_code == 302
    assert PeriodLock.objects.filter(month=date(2026, 1, 1)).exists()
    client.post("/finance/periods/", {"month": "2026-01-01", "unlock": "1"})
    assert not PeriodLock.objects.exists()
    unlocked = Event.objects.get(code="finance.period.unlocked")
    assert unlocked.actor == owner and unlocked.data["month"] == "2026-01-01"
    assert "January 2026 unlocked" in unlocked.summary


def test_a_future_month_cannot_be_locked(business, owner):
    with pytest.raises(ledger.ApplicationError, match="past or the current"):
        ledger.period_lock(month=date(2999, 1, 1), actor=owner)


def entry_form(day: str, memo: str, *lines) -> dict:
    data = {
        "date": day,
        "memo": memo,
        "key": f"k-{memo}-{day}",
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
    }
    for i, (account, debit, credit) in enumerate(lines):
        data |= {f"lines-{i}-account": account.pk, f"lines-{i}-debit": debit, f"lines-{i}-credit": credit}
    return data


@pytest.fixture
def chart(business):
    ledger.chart_install()
    return {a.role: a for a in Account.objects.exclude(role=None)}


def test_a_manual_entry_posts_and_posting_it_twice_writes_it_once(chart, owner, client_for):
    client = client_for(owner)
    data = entry_form(
        "2026-01-02", "Owner's money", (chart["bank"], "250.00", ""), (chart["equity"], "", "250")
    )
    assert client.post("/finance/journal/new/", data).status_code == 302
    assert client.post("/finance/journal/new/", data).status_code == 302
    entry = JournalEntry.objects.get()
    assert entry.source == "manual" and entry.posted_by == owner and entry.lines.count() == 2


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((("bank", "10", ""), ("equity", "", "9")), "does not balance"),
        ((("bank", "10", "10"), ("equity", "", "10")), "not both and not zero"),
        ((("equity", "", "5"),), "at least two lines"),
        ((("bank", "", ""), ("equity", "", "5")), "not both and not zero"),  # an account, no amount
    ],
)
def test_a_bad_manual_entry_shows_the_services_check_as_a_form_error(
    chart, owner, client_for, lines, message
):
    data = entry_form("2026-01-02", "Bad", *((chart[role], d, c) for role, d, c in lines))
    response = client_for(owner).post("/finance/journal/new/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not JournalEntry.objects.exists()


def test_a_manual_entry_to_an_inactive_account_or_far_ahead_is_refused(chart, owner, client_for):
    extra = ledger.account_create(code="6200", name="Truck fuel", kind="expense")
    ledger.account_update(account=extra, active=False)
    client = client_for(owner)
    data = entry_form("2026-01-02", "Fuel", (extra, "40", ""), (chart["bank"], "", "40"))
    assert "inactive" in client.post("/finance/journal/new/", data).content.decode()
    data = entry_form("2099-01-02", "Later", (chart["bank"], "40", ""), (chart["equity"], "", "40"))
    assert "more than a year ahead" in client.post("/finance/journal/new/", data).content.decode()


def test_a_manual_entry_in_a_locked_month_posts_on_the_first_open_day_and_says_so(chart, owner, client_for):
    ledger.period_lock(month=date(2026, 1, 1), actor=owner)
    data = entry_form("2026-01-20", "Late fee", (chart["bank"], "5", ""), (chart["equity"], "", "5"))
    response = client_for(owner).post("/finance/journal/new/", data, follow=True)
    entry = JournalEntry.objects.get()
    assert entry.date == date(2026, 2, 1) and "that month is locked" in entry.memo
    assert "that month is locked" in response.content.decode()


def test_the_journal_reverses_an_entry_once(chart, owner, client_for):
    entry = ledger.journal_entry_manual(
        day=date(2026, 1, 2),
        memo="Oops",
        lines=[LineIn("bank", debit=D("7")), LineIn("equity", credit=D("7"))],
        key="o",
    )
    client = client_for(owner)
    client.post(f"/finance/journal/{entry.pk}/reverse/")
    client.post(f"/finance/journal/{entry.pk}/reverse/")
    reversal = JournalEntry.objects.get(reverses=entry)
    assert JournalEntry.objects.count() == 2 and reversal.posted_by == owner
    assert sum(ledger.trial_balance().values()) == 0 and ledger.trial_balance()["1040"] == 0
    assert "Reversed" in client.get("/finance/journal/").content.decode()


def test_the_owner_adds_renames_deactivates_and_deletes_only_an_unused_account(chart, owner, client_for):
    client = client_for(owner)
    client.post("/finance/accounts/", {"code": "6200", "name": "Truck fuel", "kind": "expense"})
    fuel = Account.objects.get(code="6200")
    client.post(f"/finance/accounts/{fuel.pk}/", {"rename": "1", "name": "Fuel and tolls"})
    client.post(f"/finance/accounts/{fuel.pk}/", {"deactivate": "1"})
    fuel.refresh_from_db()
    assert fuel.name == "Fuel and tolls" and not fuel.active
    client.post(f"/finance/accounts/{fuel.pk}/", {"activate": "1"})
    fuel.refresh_from_db()
    assert fuel.active
    ledger.journal_entry_manual(
        day=date(2026, 1, 2),
        memo="Gas",
        lines=[LineIn(fuel, debit=D("9")), LineIn("bank", credit=D("9"))],
        key="g",
    )
    response = client.post(f"/finance/accounts/{fuel.pk}/", {"delete": "1"}, follow=True)
    assert (
        Account.objects.filter(pk=fuel.pk).exists() and "deactivate it instead" in response.content.decode()
    )
    unused = ledger.account_create(code="6300", name="Tools", kind="expense")
    client.post(f"/finance/accounts/{unused.pk}/", {"delete": "1"})
    assert not Account.objects.filter(pk=unused.pk).exists()
    client.post(f"/finance/accounts/{chart['ar'].pk}/", {"deactivate": "1"})
    assert Account.objects.get(role="ar").active  # the posting rules' accounts stay active
    trail = list(Event.objects.filter(code__startswith="finance.account.").order_by("pk"))
    assert [(e.code, e.summary) for e in trail] == [
        ("finance.account.created", "Account 6200 Truck fuel added (Expense)"),
        ("finance.account.changed", "Account 6200 Fuel and tolls: renamed from Truck fuel"),
        ("finance.account.changed", "Account 6200 Fuel and tolls: deactivated"),
        ("finance.account.changed", "Account 6200 Fuel and tolls: reactivated"),
        ("finance.account.created", "Account 6300 Tools added (Expense)"),
        ("finance.account.deleted", "Account 6300 Tools deleted (nothing was posted to it)"),
    ]
    assert {e.actor for e in trail} == {owner, None}  # the page's changes carry who made them
    assert trail[1].data["changes"] == {"name": ["Truck fuel", "Fuel and tolls"]}


def test_a_duplicate_account_code_is_a_form_error(chart, owner, client_for):
    response = client_for(owner).post(
        "/finance/accounts/", {"code": "1200", "name": "Again", "kind": "asset"}
    )
    assert response.status_code == 400 and "already an account 1200" in response.content.decode()

"""The accountant's pages: reports (each also as CSV), journal exports, period locks, manual entries, bank
deposits and the chart of accounts. The owner's; the office sees AR aging only."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from common import money
from common.errors import ApplicationError
from users.access import role_required
from users.roles import Role

from . import exports, reports, selectors, services
from .forms import (
    AccountForm,
    AccountNameForm,
    DepositForm,
    DepositUndoForm,
    LineFormSet,
    ManualEntryForm,
    as_of_form,
    range_form,
)
from .models import Account, JournalEntry, PeriodLock
from .services import LineIn

OWNER = Role.OWNER


def _csv(filename: str, rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(exports.csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wants_csv(request) -> bool:
    return request.GET.get("download") == "csv"


def _bad_input(request, template: str, form, **context) -> HttpResponse:
    """The form with its errors and no figures, 400 (a CSV request gets the message as text)."""
    if _wants_csv(request):
        return _errors_as_text(form)
    return render(request, template, {"form": form, **context}, status=400)


def _errors_as_text(form) -> HttpResponse:
    errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")


def _m(value) -> str:
    return f"{value:.2f}"


@role_required(OWNER)
def hub(request):
    today = services.today()
    context = {
        "locked": PeriodLock.objects.first(),
        "entries": JournalEntry.objects.count(),
        "month_start": today.replace(day=1),
        "today": today,
    }
    return render(request, "finance/hub.html", context)


@role_required(OWNER)
def trial_balance(request):
    form = as_of_form(request.GET, services.today())
    if not form.is_valid():
        return _bad_input(request, "finance/trial_balance.html", form)
    report = reports.trial_balance(as_of=form.cleaned_data["as_of"])
    if _wants_csv(request):
        rows = [["Code", "Account", "Debits", "Credits", "Debit balance", "Credit balance"]]
        rows += [
            [
                r.account.code,
                r.account.name,
                _m(r.debits),
                _m(r.credits),
                _m(r.debit_balance),
                _m(r.credit_balance),
            ]
            for r in report.rows
        ]
        rows.append(["", "Total", _m(report.debits), _m(report.credits)])
        rows[-1] += [_m(report.debit_balances), _m(report.credit_balances)]
        return _csv(f"trial-balance-{report.as_of}.csv", rows)
    return render(request, "finance/trial_balance.html", {"form": form, "report": report})


def _section_rows(section, current: str, previous: str) -> list[list[str]]:
    rows = []
    for group in section.groups:
        for row in group.rows:
            rows.append([section.label, group.label, row.account.code, row.account.name])
            rows[-1] += [_m(row.current), _m(row.previous)]
    rows.append([section.label, "", "", f"Total {section.label.lower()}", _m(section.current)])
    rows[-1].append(_m(section.previous))
    return rows


@role_required(OWNER)
def profit_and_loss(request):
    today = services.today()
    form = range_form(request.GET, today, start=today.replace(month=1, day=1))
    if not form.is_valid():
        return _bad_input(request, "finance/profit_and_loss.html", form)
    report = reports.profit_and_loss(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    if _wants_csv(request):
        current = f"{report.period.start} to {report.period.end}"
        previous = f"{report.previous.start} to {report.previous.end}"
        rows = [["Section", "Group", "Code", "Account", current, previous]]
        rows += _section_rows(report.revenue, current, previous)
        rows += _section_rows(report.expenses, current, previous)
        rows.append(["", "", "", "Net income", _m(report.net_current), _m(report.net_previous)])
        return _csv(f"profit-and-loss-{report.period.start}-{report.period.end}.csv", rows)
    return render(request, "finance/profit_and_loss.html", {"form": form, "report": report})


@role_required(OWNER)
def balance_sheet(request):
    form = as_of_form(request.GET, services.today())
    if not form.is_valid():
        return _bad_input(request, "finance/balance_sheet.html", form)
    report = reports.balance_sheet(as_of=form.cleaned_data["as_of"])
    if _wants_csv(request):
        current, previous = str(report.as_of), str(report.previous)
        rows = [["Section", "Group", "Code", "Account", current, previous]]
        for section in (report.assets, report.liabilities, report.equity):
            rows += _section_rows(section, current, previous)
        rows.append(["", "", "", "Total liabilities and equity"])
        rows[-1] += [_m(report.liabilities_and_equity_current), _m(report.liabilities_and_equity_previous)]
        return _csv(f"balance-sheet-{report.as_of}.csv", rows)
    return render(request, "finance/balance_sheet.html", {"form": form, "report": report})


LEDGER_PAGE = 1000


@role_required(OWNER)
def ledger(request, code: str):
    account = get_object_or_404(Account, code=code)
    form = range_form(request.GET, services.today())
    context = {"account": account}
    if not form.is_valid():
        return _bad_input(request, "finance/ledger.html", form, **context)
    csv = _wants_csv(request)
    report = reports.general_ledger(
        account=account,
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        limit=None if csv else LEDGER_PAGE,
    )
    if csv:
        rows = [["Date", "Entry", "Memo", "Debit", "Credit", "Balance"]]
        rows.append([str(report.period.start), "", "Opening balance", "", "", _m(report.opening)])
        rows += [
            [
                str(r.line.entry.date),
                f"HS-{r.line.entry_id}",
                r.line.entry.memo,
                _m(r.line.debit),
                _m(r.line.credit),
                _m(r.balance),
            ]
            for r in report.lines
        ]
        rows.append([str(report.period.end), "", "Closing balance", _m(report.debits), _m(report.credits)])
        rows[-1].append(_m(report.closing))
        return _csv(f"ledger-{account.code}-{report.period.start}-{report.period.end}.csv", rows)
    return render(request, "finance/ledger.html", {"form": form, "report": report, **context})


@role_required(OWNER, Role.OFFICE)
def ar_aging(request):
    form = as_of_form(request.GET, services.today())
    if not form.is_valid():
        return _bad_input(request, "finance/ar_aging.html", form)
    report = reports.ar_aging(as_of=form.cleaned_data["as_of"])
    if _wants_csv(request):
        rows = [["Customer", "Customer ID", "Invoices", "Current", "1-30", "31-60", "61-90", "Over 90"]]
        rows[0].append("Total")
        rows += [
            [r.name, r.customer_id or "", r.invoices, *map(_m, r.buckets), _m(r.total)] for r in report.rows
        ]
        rows.append(["Total", "", "", *map(_m, report.buckets), _m(report.total)])
        return _csv(f"ar-aging-{report.as_of}.csv", rows)
    context = {"form": form, "report": report, "buckets": reports.BUCKETS}
    return render(request, "finance/ar_aging.html", context)


@role_required(OWNER)
def sales_tax(request):
    today = services.today()
    form = range_form(request.GET, today, start=today.replace(month=1, day=1))
    if not form.is_valid():
        return _bad_input(request, "finance/sales_tax.html", form)
    rows = reports.sales_tax(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    if _wants_csv(request):
        table = [["Month", "Rate (%)", "Collected", "Reversed", "Net"]]
        table += [
            [
                f"{r.month:%Y-%m}",
                "" if r.rate is None else f"{r.rate.normalize():f}",
                _m(r.collected),
                _m(r.reversed),
                _m(r.net),
            ]
            for r in rows
        ]
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return _csv(f"sales-tax-{start}-{end}.csv", table)
    totals = {k: sum((getattr(r, k) for r in rows), reports.ZERO) for k in ("collected", "reversed", "net")}
    return render(request, "finance/sales_tax.html", {"form": form, "rows": rows, "totals": totals})


@role_required(OWNER)
def export(request, target: str):
    form = range_form(request.GET, services.today())
    if not form.is_valid():
        return _errors_as_text(form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    make = exports.quickbooks_rows if target == "quickbooks" else exports.xero_rows
    return _csv(f"journal-{target}-{start}-{end}.csv", make(start=start, end=end))


# --- Period locks ---------------------------------------------------------------------------------------


def _recent_months(today: date, count: int = 24) -> list[date]:
    months, month = [], today.replace(day=1)
    for _ in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months


@role_required(OWNER)
@require_http_methods(["GET", "POST"])
def periods(request):
    if request.method == "POST":
        try:
            month = date.fromisoformat(request.POST.get("month", ""))
        except ValueError:
            return HttpResponse("Pick a month.", status=400)
        try:
            if "unlock" in request.POST:
                services.period_unlock(month=month, actor=request.user)
                messages.success(request, f"{month:%B %Y} is open again (on the audit trail).")
            else:
                services.period_lock(month=month, actor=request.user)
                messages.success(request, f"{month:%B %Y} is locked.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("finance:periods")
    locks = {lock.month: lock for lock in PeriodLock.objects.select_related("locked_by")}
    months = [(month, locks.get(month)) for month in _recent_months(services.today())]
    older = [lock for month, lock in locks.items() if month < months[-1][0]]
    return render(request, "finance/periods.html", {"months": months, "older": older})


# --- Manual entries and the journal ---------------------------------------------------------------------


def _posted_lines(formset) -> list[LineIn]:
    return [
        LineIn(
            account=form.cleaned_data["account"],
            debit=form.cleaned_data.get("debit") or reports.ZERO,
            credit=form.cleaned_data.get("credit") or reports.ZERO,
        )
        for form in formset
        if not form.is_blank
    ]


@role_required(OWNER)
@require_http_methods(["GET", "POST"])
def journal_new(request):
    form = ManualEntryForm(request.POST or None, initial={"date": services.today()})
    formset = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = _posted_lines(formset)
        if any(line.account is None for line in lines):
            form.add_error(None, "Each line with an amount needs an account.")
        else:
            try:
                entry = services.journal_entry_manual(
                    day=form.cleaned_data["date"],
                    memo=form.cleaned_data["memo"],
                    lines=lines,
                    key=form.cleaned_data["key"],
                    actor=request.user,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                note = ""
                if entry.date != form.cleaned_data["date"]:
                    note = f" It is dated {entry.date:%b %-d, %Y}: that month is locked."
                messages.success(request, f"Entry HS-{entry.pk} posted.{note}")
                return redirect("finance:journal")
    status = 400 if request.method == "POST" else 200
    return render(request, "finance/journal_new.html", {"form": form, "formset": formset}, status=status)


@role_required(OWNER)
def journal(request):
    entries = JournalEntry.objects.select_related("reverses").prefetch_related("lines__account")
    source = request.GET.get("source", "")
    if source:
        entries = entries.filter(source=source)
    if request.GET.get("entry", "").isdigit():  # one entry, e.g. a deposit's
        entries = entries.filter(pk=request.GET["entry"])
    page = Paginator(entries.order_by("-date", "-pk"), 50).get_page(request.GET.get("page"))
    reversed_ids = set(
        JournalEntry.objects.filter(reverses__in=[e.pk for e in page]).values_list("reverses_id", flat=True)
    )
    context = {"page": page, "reversed_ids": reversed_ids, "source": source}
    return render(request, "finance/journal.html", context)


@role_required(OWNER)
@require_POST
def journal_reverse(request, pk: int):
    entry = get_object_or_404(JournalEntry, pk=pk)
    try:
        made = services.journal_entry_reverse(entry=entry, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Entry HS-{entry.pk} reversed by HS-{made.pk}.")
    return redirect("finance:journal")


# --- Bank deposits --------------------------------------------------------------------------------------


@role_required(OWNER)
def deposits(request):
    page = Paginator(selectors.deposits_list(), 50).get_page(request.GET.get("page"))
    waiting = selectors.undeposited_totals()
    context = {
        "page": page,
        "undeposited": waiting.get("undeposited", (0, reports.ZERO)),
        "card_clearing": waiting.get("card_clearing", (0, reports.ZERO)),
    }
    return render(request, "finance/deposits.html", context)


def _cleared(request) -> str:
    cleared = request.POST.get("cleared") or request.GET.get("from") or "undeposited"
    return cleared if cleared in services.DEPOSIT_SOURCES else "undeposited"


@role_required(OWNER)
@require_http_methods(["GET", "POST"])
def deposit_new(request):
    cleared = _cleared(request)
    initial = {"date": services.today(), "cleared": cleared}
    form = DepositForm(request.POST or None, initial=initial, accounts=selectors.deposit_accounts())
    if request.method == "POST" and form.is_valid():
        try:
            deposit = _deposit_record(form.cleaned_data, request.user)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Deposit of {money.format_money(deposit.net)} into {deposit.account.name} posted "
                f"(HS-{deposit.entry_id}).",
            )
            return redirect("finance:deposits")
    waiting = selectors.undeposited_payments(cleared=cleared)
    ticked = {int(v) for v in request.POST.getlist("lines") if v.isdigit()}
    context = {
        "form": form,
        "cleared": cleared,
        "waiting": waiting,
        "ticked": ticked,
        "ticked_total": sum((p.amount for p in waiting if p.line.pk in ticked), reports.ZERO),
    }
    return render(
        request, "finance/deposit_new.html", context, status=400 if request.method == "POST" else 200
    )


def _deposit_record(data: dict, actor):
    return services.deposit_record(
        account=data["account"],
        cleared=data["cleared"],
        day=data["date"],
        line_ids=data["lines"],
        key=data["key"],
        memo=data["memo"],
        fees=data["fees"] or reports.ZERO,
        actor=actor,
    )


@role_required(OWNER)
@require_http_methods(["GET", "POST"])
def deposit_undo(request, pk: int):
    """The confirmation step (what goes back where, and why), then the undo."""
    deposit = get_object_or_404(selectors.deposits_list(), pk=pk)
    form = DepositUndoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            undo = services.deposit_undo(
                deposit=deposit,
                reason=form.cleaned_data["reason"],
                key=form.cleaned_data["key"],
                actor=request.user,
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Deposit of {money.format_money(deposit.net)} into {deposit.account.name} undone "
                f"(HS-{undo.entry_id}): its payments are waiting in {deposit.cleared.name.lower()} again.",
            )
            return redirect("finance:deposits")
    context = {
        "deposit": deposit,
        "form": form,
        "payments": selectors.deposit_payments(deposit),
        "posts_on": services.undo_date(deposit),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "finance/deposit_undo.html", context, status=status)


# --- The chart of accounts ------------------------------------------------------------------------------


@role_required(OWNER)
@require_http_methods(["GET", "POST"])
def accounts(request):
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(**form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Account {account} added.")
            return redirect("finance:accounts")
    listed = Account.objects.select_related("parent").annotate(postings=Count("lines")).order_by("code")
    status = 400 if request.method == "POST" else 200
    return render(request, "finance/accounts.html", {"form": form, "accounts": listed}, status=status)


@role_required(OWNER)
@require_POST
def account_action(request, pk: int):
    account = get_object_or_404(Account, pk=pk)
    try:
        if "delete" in request.POST:
            services.account_delete(account=account, actor=request.user)
            messages.success(request, f"Account {account} deleted.")
        elif "rename" in request.POST:
            form = AccountNameForm(request.POST)
            if not form.is_valid():
                raise ApplicationError("An account needs a name.", field="name")
            services.account_update(account=account, name=form.cleaned_data["name"], actor=request.user)
            messages.success(request, f"Renamed to {account}.")
        else:
            active = "activate" in request.POST
            services.account_update(account=account, active=active, actor=request.user)
            messages.success(request, f"{account} {'activated' if active else 'deactivated'}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("finance:accounts")

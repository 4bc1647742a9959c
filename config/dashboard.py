"""The owner's dashboard: one range and the range of equal length before it, each figure beside its
previous value, and the link to the records behind it. Wiring only: crm, fsm and finance each answer
their part (crm.selectors, fsm's models, finance.selectors: posted revenue is the ledger's), and the
query count does not grow with the data (tests/test_dashboard.py)."""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils import timezone

from common import money
from crm import selectors as crm
from finance import selectors as ledger
from fsm.estimates.models import Estimate
from fsm.invoices.models import Invoice
from fsm.models import Visit
from users.models import User

ZERO = Decimal("0.00")
MAX_DAYS = 3 * 366
RANGES = [
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("90d", "Last 90 days"),
    ("ytd", "Year to date"),
    ("custom", "Custom"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class RangeForm(forms.Form):
    range = forms.ChoiceField(choices=RANGES, required=False, label="Range")
    start = forms.DateField(required=False, widget=DateInput, label="From")
    end = forms.DateField(required=False, widget=DateInput, label="Until")

    def clean(self):
        data = super().clean()
        if data.get("range") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise forms.ValidationError("A custom range needs both dates.")
        if end < start:
            self.add_error("end", "The end is before the start.")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("end", "At most three years at a time.")
        return data


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def period_for(choice: str, today: date, start: date | None = None, end: date | None = None) -> Period:
    """The named range as days in the business's calendar (a month-to-date range ends today)."""
    first = today.replace(day=1)
    if choice == "custom" and start and end:
        return Period(start, end)
    if choice == "last_month":
        last = first - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if choice == "90d":
        return Period(today - timedelta(days=89), today)
    if choice == "ytd":
        return Period(today.replace(month=1, day=1), today)
    return Period(first, today)


def month_days(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


# --- Figures ------------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One number with its previous value. kind: money, count, pct, minutes, days, ratio."""

    label: str
    value: Decimal | float | int | None
    previous: Decimal | float | int | None
    kind: str = "count"
    url: str = ""
    lower_is_better: bool = False
    testid: str = ""

    @property
    def change(self) -> Decimal | float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def text(self) -> str:
        return _format(self.value, self.kind)

    @property
    def previous_text(self) -> str:
        return _format(self.previous, self.kind)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return ""
        if not change:
            return "no change"
        sign = "+" if change > 0 else "\N{MINUS SIGN}"
        if self.kind == "pct":
            return f"{sign}{abs(change):.1f} pts"
        return sign + _format(abs(change), self.kind)

    @property
    def tone(self) -> str:
        change = self.change
        if not change:
            return "flat"
        return "good" if (change < 0) == self.lower_is_better else "bad"


def _format(value, kind: str) -> str:
    if value is None:
        return "\N{EM DASH}"
    formats = {
        "money": lambda v: money.format_money(Decimal(v)),
        "pct": lambda v: f"{v:.1f}%",
        "minutes": lambda v: f"{v:,.1f} min",
        "days": lambda v: f"{v:,.1f} days",
        "ratio": lambda v: f"{v:.2f}\N{MULTIPLICATION SIGN}",
    }
    return formats.get(kind, lambda v: f"{v:,}")(value)


@dataclass
class Card:
    title: str
    chart_id: str
    chart: dict
    figures: list[Figure] = field(default_factory=list)
    rows: list = field(default_factory=list)
    note: str = ""


def _link(name: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{reverse(name)}?{query}" if query else reverse(name)


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _dataset(label: str, data: list, tone: str = "current") -> dict:
    return {"label": label, "data": data, "tone": tone}


def _chart(kind: str, labels: list, *datasets: dict, **options) -> dict:
    return {"type": kind, "labels": labels, "datasets": list(datasets), **options}


def _period_params(period: Period, prefix: str) -> dict:
    return {f"{prefix}_from": period.start.isoformat(), f"{prefix}_to": period.end.isoformat()}


def speed_card(period: Period, prev: Period, tz) -> Card:
    now_all, now_by = crm.speed_to_lead(start=period.start, end=period.end, tz=tz)
    before, _ = crm.speed_to_lead(start=prev.start, end=prev.end, tz=tz)
    leads = _period_params(period, "arrived")
    chart = _chart(
        "bar",
        [s.label for s in now_by],
        _dataset("Median (min)", [_minutes(s.median) for s in now_by]),
        _dataset("90th percentile (min)", [_minutes(s.p90) for s in now_by], "secondary"),
        unit="min",
        horizontal=True,
    )
    figures = [
        Figure(
            "Median first response",
            _minutes(now_all.median),
            _minutes(before.median),
            "minutes",
            _link("crm:list", **leads),
            lower_is_better=True,
            testid="speed-median",
        ),
        Figure(
            "90th percentile",
            _minutes(now_all.p90),
            _minutes(before.p90),
            "minutes",
            _link("crm:list", **leads),
            lower_is_better=True,
            testid="speed-p90",
        ),
        Figure(
            "Answered within 5 min",
            now_all.fast_pct,
            before.fast_pct,
            "pct",
            _link("crm:list", **leads),
            testid="speed-fast",
        ),
    ]
    rows = [(s, _link("crm:list", source=s.key, **leads)) for s in now_by]
    return Card("Speed to lead", "chart-speed", chart, figures, rows)


def _totals(rows: list[crm.ReportRow]) -> crm.ReportRow:
    total = crm.ReportRow(label="All")
    for row in rows:
        total.leads += row.leads
        total.booked += row.booked
        total.won += row.won
        total.won_revenue += row.won_revenue
        total.cost += row.cost
    return total


def lead_cards(period: Period, prev: Period, tz) -> tuple[Card, Card, Card]:
    now = crm.attribution_report(start=period.start, end=period.end, tz=tz)
    before = crm.attribution_report(start=prev.start, end=prev.end, tz=tz)
    return (
        _sources_card(period, now["source"], before["source"]),
        _conversion_card(period, now["source"], before["source"]),
        _campaign_card(period, now["campaign"], before["campaign"]),
    )


def _sources_card(period: Period, now: list, before: list) -> Card:
    dates = _period_params(period, "arrived")
    rows = [r for r in now if r.leads]
    chart = _chart(
        "bar", [r.label for r in rows], _dataset("Leads", [r.leads for r in rows]), horizontal=True
    )
    total, prior = _totals(now), _totals(before)
    figures = [
        Figure("Leads", total.leads, prior.leads, url=_link("crm:list", **dates), testid="leads-total"),
    ]
    links = [(r, _link("crm:list", source=r.key, **dates)) for r in rows]
    return Card("Leads by source", "chart-sources", chart, figures, links)


def _conversion_card(period: Period, now: list, before: list) -> Card:
    dates = _period_params(period, "arrived")
    rows = [r for r in now if r.leads]
    chart = _chart(
        "bar",
        [r.label for r in rows],
        _dataset("Leads", [r.leads for r in rows], "muted"),
        _dataset("Booked", [r.booked for r in rows], "secondary"),
        _dataset("Won", [r.won for r in rows]),
        horizontal=True,
    )
    total, prior = _totals(now), _totals(before)
    figures = [
        Figure(
            "Lead → booked",
            _ratio(total.booked, total.leads),
            _ratio(prior.booked, prior.leads),
            "pct",
            _link("crm:list", booked="on", **dates),
            testid="conv-booked",
        ),
        Figure(
            "Lead → won",
            _ratio(total.won, total.leads),
            _ratio(prior.won, prior.leads),
            "pct",
            _link("crm:list", state="won", **dates),
            testid="conv-won",
        ),
    ]
    links = [
        (
            r,
            _link("crm:list", source=r.key, booked="on", **dates),
            _link("crm:list", source=r.key, state="won", **dates),
        )
        for r in rows
    ]
    return Card("Lead → booked → won, by source", "chart-conversion", chart, figures, links)


def _campaign_card(period: Period, now: list, before: list) -> Card:
    rows = [r for r in now if r.key is not None and (r.cost or r.won_revenue or r.leads)]
    chart = _chart(
        "bar",
        [r.label for r in rows],
        _dataset("Revenue (posted)", [_money(r.won_revenue) for r in rows]),
        _dataset("Cost", [_money(r.cost) for r in rows], "bad"),
        unit="$",
    )
    paid_now = [r for r in now if r.key is not None]
    paid_before = [r for r in before if r.key is not None]
    total, prior = _totals(paid_now), _totals(paid_before)
    report = _link("crm:report", start=period.start.isoformat(), end=period.end.isoformat())
    figures = [
        Figure(
            "Campaign revenue", total.won_revenue, prior.won_revenue, "money", report, testid="camp-revenue"
        ),
        Figure(
            "Campaign cost", total.cost, prior.cost, "money", report, lower_is_better=True, testid="camp-cost"
        ),
        Figure("ROI", total.roi, prior.roi, "ratio", report, testid="camp-roi"),
    ]
    dates = _period_params(period, "arrived")
    links = [(r, _link("crm:list", campaign=r.key, **dates)) for r in rows]
    return Card("Revenue, cost and ROI per campaign", "chart-campaigns", chart, figures, links)


# --- Estimates ----------------------------------------------------------------------------------------


def _estimate_stats(period: Period, tz) -> tuple[int, int, float | None]:
    """Accepted and declined estimates decided in the range; the accepted ones' mean days sent -> signed."""
    since = timezone.make_aware(datetime.combine(period.start, time.min), tz)
    until = timezone.make_aware(datetime.combine(period.end + timedelta(days=1), time.min), tz)
    rows = (
        Estimate.objects.filter(decided_at__gte=since, decided_at__lt=until)
        .filter(state__in=[Estimate.State.ACCEPTED, Estimate.State.DECLINED])
        .order_by()
        .values_list("state", "sent_at", "decided_at", "created_at")
    )
    accepted, declined, days = 0, 0, []
    for state, sent, decided, created in rows:
        if state == Estimate.State.DECLINED:
            declined += 1
            continue
        accepted += 1
        days.append((decided - (sent or created)).total_seconds() / 86400)
    return accepted, declined, (round(sum(days) / len(days), 1) if days else None)


def estimate_card(period: Period, prev: Period, tz) -> Card:
    won, lost, days = _estimate_stats(period, tz)
    won_before, lost_before, days_before = _estimate_stats(prev, tz)
    decided = _period_params(period, "decided")
    chart = _chart("doughnut", ["Accepted", "Declined"], _dataset("Estimates", [won, lost], "pair"))
    figures = [
        Figure(
            "Close rate",
            _ratio(won, won + lost),
            _ratio(won_before, won_before + lost_before),
            "pct",
            _link("estimate-list", state="accepted", **decided),
            testid="est-close",
        ),
        Figure(
            "Average days to close",
            days,
            days_before,
            "days",
            _link("estimate-list", state="accepted", **decided),
            lower_is_better=True,
            testid="est-days",
        ),
    ]
    links = [
        ("Accepted", won, _link("estimate-list", state="accepted", **decided)),
        ("Declined", lost, _link("estimate-list", state="declined", **decided)),
    ]
    return Card("Estimates", "chart-estimates", chart, figures, links)


# --- Money (the ledger) -------------------------------------------------------------------------------


def _ticket(revenue: Decimal, tickets: int) -> Decimal | None:
    return (revenue / tickets).quantize(Decimal("0.01")) if tickets else None


def revenue_card(period: Period, prev: Period) -> Card:
    now_days = ledger.revenue_by_day(start=period.start, end=period.end)
    before_days = ledger.revenue_by_day(start=prev.start, end=prev.end)
    revenue, revenue_before = sum(now_days.values(), ZERO), sum(before_days.values(), ZERO)
    tickets = ledger.tickets(start=period.start, end=period.end)
    tickets_before = ledger.tickets(start=prev.start, end=prev.end)
    chart = _chart(
        "line",
        [d.strftime("%b %-d") for d in period.each_day()],
        _dataset("This range", _running(now_days, period)),
        _dataset("Previous range", _running(before_days, prev), "muted"),
        unit="$",
    )
    issued = _link("invoice-list", **_period_params(period, "issued"))
    figures = [
        Figure("Revenue (posted)", revenue, revenue_before, "money", issued, testid="revenue"),
        Figure(
            "Average ticket",
            _ticket(revenue, tickets),
            _ticket(revenue_before, tickets_before),
            "money",
            issued,
            testid="ticket",
        ),
    ]
    return Card("Revenue (posted), running total", "chart-revenue", chart, figures)


def _running(by_day: dict[date, Decimal], period: Period) -> list[str]:
    total, out = ZERO, []
    for day in period.each_day():
        total += by_day.get(day, ZERO)
        out.append(_money(total))
    return out


def technician_revenue(period: Period) -> list[tuple[User | None, Decimal]]:
    """Each job's posted revenue split evenly between the technicians on its visits (None: jobs without
    one, and invoices on no job). Two queries whatever the number of jobs."""
    by_job = ledger.revenue_by_job(start=period.start, end=period.end)
    crews: dict[int, set[int]] = {}
    jobs = [job_id for job_id in by_job if job_id is not None]
    through = Visit.technicians.through.objects.filter(visit__job_id__in=jobs).exclude(
        visit__state=Visit.State.CANCELED
    )
    for job_id, user_id in through.values_list("visit__job_id", "user_id"):
        crews.setdefault(job_id, set()).add(user_id)
    totals: dict[int | None, Decimal] = {}
    for job_id, amount in by_job.items():
        crew = sorted(crews.get(job_id, ())) or [None]
        for user_id in crew:
            totals[user_id] = totals.get(user_id, ZERO) + amount / len(crew)
    users = User.objects.in_bulk([pk for pk in totals if pk is not None])
    rows = [(users.get(pk), amount.quantize(Decimal("0.01"))) for pk, amount in totals.items()]
    return sorted(rows, key=lambda r: -r[1])


def technician_card(period: Period, prev: Period) -> Card:
    rows = technician_revenue(period)
    before = dict((u.pk if u else None, a) for u, a in technician_revenue(prev))
    names = [(u.get_full_name() or u.username) if u else "No technician" for u, _ in rows]
    chart = _chart(
        "bar",
        names,
        _dataset("This range", [_money(a) for _, a in rows]),
        _dataset("Previous range", [_money(before.get(u.pk if u else None, ZERO)) for u, _ in rows], "muted"),
        unit="$",
        horizontal=True,
    )
    issued = _period_params(period, "issued")
    links = [
        (
            name,
            amount,
            before.get(u.pk if u else None, ZERO),
            _link("invoice-list", technician=u.pk, **issued) if u else "",
        )
        for name, (u, amount) in zip(names, rows, strict=True)
    ]
    top = rows[0][1] if rows else None
    top_before = max(before.values()) if before else None
    figures = [
        Figure("Top technician", top, top_before, "money", links[0][3] if links else "", testid="tech-top")
    ]
    return Card("Revenue by technician", "chart-technicians", chart, figures, links)


def _ar(as_of: date) -> tuple[Decimal, Decimal]:
    """Owed at the end of `as_of` (the ledger) and the part past its due date (fsm's due dates), in one
    aggregate (the invoices due before `as_of` as a subquery)."""
    return ledger.ar_owed(as_of=as_of, late=Invoice.objects.filter(due_on__lt=as_of).values("pk"))


def cash_card(period: Period, prev: Period) -> Card:
    outstanding, overdue = _ar(period.end)
    outstanding_before, overdue_before = _ar(prev.end)
    by_day = ledger.cash_by_day(start=period.start, end=period.end)
    cash = sum(by_day.values(), ZERO)
    cash_before = ledger.cash_collected(start=prev.start, end=prev.end)
    chart = _chart(
        "bar",
        [d.strftime("%b %-d") for d in period.each_day()],
        _dataset("Cash collected", [_money(by_day.get(d, ZERO)) for d in period.each_day()]),
        unit="$",
    )
    payments = _link("payment-list", **_period_params(period, "received"))
    figures = [
        Figure("Cash collected", cash, cash_before, "money", payments, testid="cash"),
        Figure(
            "AR outstanding",
            outstanding,
            outstanding_before,
            "money",
            _link("invoice-list", unpaid="on"),
            lower_is_better=True,
            testid="ar",
        ),
        Figure(
            "AR overdue",
            overdue,
            overdue_before,
            "money",
            _link("invoice-list", overdue="on"),
            lower_is_better=True,
            testid="ar-overdue",
        ),
    ]
    note = f"AR as of {period.end:%b %-d, %Y} (previous: {prev.end:%b %-d})."
    return Card("Cash collected and receivables", "chart-cash", chart, figures, note=note)


def owner_dashboard(period: Period, tz) -> dict[str, Card]:
    prev = period.previous()
    sources, conversion, campaigns = lead_cards(period, prev, tz)
    return {
        "speed": speed_card(period, prev, tz),
        "sources": sources,
        "conversion": conversion,
        "estimates": estimate_card(period, prev, tz),
        "revenue": revenue_card(period, prev),
        "technicians": technician_card(period, prev),
        "campaigns": campaigns,
        "cash": cash_card(period, prev),
    }

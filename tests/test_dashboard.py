"""The owner's dashboard on known data: leads answered at known speeds, estimates accepted and declined,
invoices issued and paid through fsm's services and posted by finance's real delivery path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.dashboard import Period, owner_dashboard, period_for
from crm.models import Campaign, Lead, Source
from crm.selectors import attribution_report, campaign_cost
from crm.services import LeadIn, lead_capture, lead_mark_contacted
from fsm.estimates import services as estimates
from fsm.estimates.models import Estimate
from fsm.invoices import services as invoices
from fsm.invoices.models import Invoice
from tests.finance.test_ledger import deliver
from tests.fsm.estimate_helpers import austin_tax, good_better_best, issued_invoice, signature_data_url
from tests.fsm.factories import make_job, make_technician, schedule

D = Decimal
pytestmark = pytest.mark.usefixtures("_media")


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def web_source(db):
    return Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)


@pytest.fixture
def spring_campaign(web_source):
    return Campaign.objects.create(
        name="Spring AC tune-up", source=web_source, utm_campaign="spring-ac", cost=D("1500.00"),
        starts_on=date(2026, 1, 1),
    )  # fmt: skip


@pytest.fixture
def week(business) -> Period:
    today = timezone.localdate(timezone.now(), business.tzinfo)
    return Period(today - timedelta(days=6), today)


def _lead(source, i: int, *, campaign: bool = False) -> Lead:
    attribution = {"utm_campaign": "spring-ac"} if campaign else {}
    contact = LeadIn(name=f"Lead {i}", phone=f"512555{3000 + i}")
    return lead_capture(source=source, contact=contact, attribution=attribution).lead


def _answered(lead: Lead, minutes: float) -> None:
    Lead.objects.filter(pk=lead.pk).update(first_response_at=lead.arrived_at + timedelta(minutes=minutes))


def _job_invoice(*, lead, office, dispatcher, tech, amount: str) -> Invoice:
    job = make_job(actor=office, origin_lead_id=lead.pk if lead else None)
    schedule(job, start=timezone.now() + timedelta(days=1), technicians=[tech], actor=dispatcher)
    return issued_invoice(customer=job.customer, actor=office, amount=amount, job=job)


@pytest.fixture
def shop(business, owner, office, dispatcher, technician, web_source, spring_campaign):
    """4 leads (3 website ones in the spring campaign), 2 invoices (one from a lead, one walk-in), one
    paid by card, the other overdue; 2 estimates, one accepted and one declined. Then the ledger."""
    austin_tax()
    google = Source.objects.create(name="Google LSA", slug="lsa", kind=Source.Kind.WEBHOOK)
    website = [_lead(web_source, i, campaign=True) for i in range(3)]
    lead_mark_contacted(lead=website[0], actor=office)  # at once
    _answered(website[1], 9)  # slow; website[2] is never answered
    _answered(_lead(google, 9), 2)
    tech = make_technician(user=technician)
    from_lead = _job_invoice(
        lead=website[0], office=office, dispatcher=dispatcher, tech=tech, amount="500.00"
    )
    invoices.payment_record(invoice=from_lead, actor=office, method="card", amount="541.25")
    walk_in = issued_invoice(customer=from_lead.customer, actor=office, amount="100.00")
    Invoice.objects.filter(pk=walk_in.pk).update(due_on=timezone.localdate() - timedelta(days=10))
    accepted, declined = (good_better_best(customer=from_lead.customer, actor=office) for _ in range(2))
    for estimate in (accepted, declined):
        estimates.estimate_present(estimate=estimate, actor=office)
    estimates.estimate_accept(
        estimate=accepted,
        option_id=accepted.options.first().pk,
        signer_name="Ana Ruiz",
        signature=signature_data_url(),
        actor=office,
        in_person=True,
    )
    estimates.estimate_decline(estimate=declined, reason="Too dear", actor=office)
    deliver()
    return {"website": website, "tech": tech, "google": google}


def _figures(cards) -> dict:
    return {f.testid: f for card in cards.values() for f in card.figures}


def test_the_figures_on_known_data(shop, week, business, spring_campaign):
    cards = owner_dashboard(week, business.tzinfo)
    figures = _figures(cards)
    assert figures["leads-total"].value == 4
    assert figures["speed-median"].value == 2.0  # answered: ~0, 2 and 9 minutes
    assert figures["speed-p90"].value == 9.0
    assert figures["speed-fast"].value == 50.0  # 2 of 4 (the unanswered one counts as slow)
    assert figures["revenue"].value == D("600.00")  # revenue accounts only: no sales tax
    assert figures["ticket"].value == D("300.00")
    assert figures["cash"].value == D("541.25")
    assert figures["ar"].value == D("108.25") == figures["ar-overdue"].value
    assert figures["est-close"].value == 50.0
    assert figures["camp-revenue"].value == D("500.00")
    cost = campaign_cost(spring_campaign, week.start, week.end)
    assert figures["camp-cost"].value == cost
    assert figures["camp-roi"].value == (D("500.00") / cost).quantize(D("0.01"))
    assert figures["revenue"].previous == D("0.00") and figures["revenue"].tone == "good"
    technicians = {name: amount for name, amount, _, _ in cards["technicians"].rows}
    assert technicians == {shop["tech"].get_full_name() or shop["tech"].username: D("500.00"),
                           "No technician": D("100.00")}  # fmt: skip


def test_the_lead_report_reads_the_same_posted_revenue(shop, week, business):
    rows = attribution_report(start=week.start, end=week.end, tz=business.tzinfo)
    website = next(r for r in rows["source"] if r.label == "Website")
    assert website.won_revenue == D("500.00")
    campaign = next(r for r in rows["campaign"] if r.label == "Spring AC tune-up")
    assert campaign.won_revenue == D("500.00") and campaign.roi == (D("500.00") / campaign.cost).quantize(
        D("0.01")
    )
    google = next(r for r in rows["source"] if r.label == "Google LSA")
    assert google.won_revenue == D("0.00") and google.roi is None


def test_a_void_takes_its_revenue_back(shop, week, business, office):
    invoice = Invoice.objects.get(total=D("108.25"))
    invoices.invoice_void(invoice=invoice, actor=office, reason="Duplicate")
    deliver()
    figures = _figures(owner_dashboard(week, business.tzinfo))
    assert figures["revenue"].value == D("500.00") and figures["ar"].value == D("0.00")


def test_the_page_shows_each_figure_with_its_link_and_chart(shop, owner, client_for):
    body = client_for(owner).get(reverse("dashboard")).content.decode()
    for chart in (
        "speed",
        "sources",
        "conversion",
        "estimates",
        "revenue",
        "technicians",
        "campaigns",
        "cash",
    ):
        assert f'data-chart="chart-{chart}"' in body and f'id="chart-{chart}"' in body
    assert 'data-testid="revenue"' in body and "$600.00" in body
    assert "/invoices/?overdue=on" in body and "/payments/?received_from=" in body
    assert f"/leads/list/?source={shop['google'].pk}&amp;arrived_from=" in body
    assert "vendor/chartjs/chart.umd.min.js" in body


def test_only_the_owner_opens_the_dashboard(business, office, technician, client_for):
    for user in (office, technician):
        assert client_for(user).get(reverse("dashboard")).status_code == 403


def test_a_custom_range_ending_before_it_starts_is_refused(business, owner, client_for):
    response = client_for(owner).get(
        reverse("dashboard"), {"range": "custom", "start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "The end is before the start." in response.content.decode()


def test_a_custom_range_and_its_previous_range(business, owner, client_for):
    response = client_for(owner).get(
        reverse("dashboard"), {"range": "custom", "start": "2026-03-01", "end": "2026-03-10"}
    )
    assert response.status_code == 200
    assert response.context["previous"] == Period(date(2026, 2, 19), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("choice", "start", "end"),
    [
        ("this_month", "2026-12-01", "2026-12-05"),
        ("last_month", "2026-11-01", "2026-11-30"),
        ("90d", "2026-09-07", "2026-12-05"),
        ("ytd", "2026-01-01", "2026-12-05"),
    ],
)
def test_the_named_ranges(choice, start, end):
    period = period_for(choice, date(2026, 12, 5))
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_the_query_count_does_not_grow_with_the_data(shop, owner, client_for, office, dispatcher, web_source):
    client = client_for(owner)
    client.get(reverse("dashboard"))  # warm caches (the business, content types)
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("dashboard"))
    for i in range(3):
        lead = _lead(web_source, 20 + i, campaign=True)
        other = make_technician(username=f"t{i}")
        _job_invoice(lead=lead, office=office, dispatcher=dispatcher, tech=other, amount="250.00")
    deliver()
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("dashboard"))
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


def test_the_figures_link_to_the_records_behind_them(shop, week, business, owner, client_for):
    figures = _figures(owner_dashboard(week, business.tzinfo))
    client = client_for(owner)
    overdue = client.get(figures["ar-overdue"].url).content.decode()
    paid, late = Invoice.objects.get(total=D("541.25")), Invoice.objects.get(total=D("108.25"))
    assert late.number in overdue and paid.number not in overdue
    closed = client.get(figures["est-close"].url).content.decode()
    won, lost = (Estimate.objects.get(state=state) for state in ("accepted", "declined"))
    assert won.number in closed and lost.number not in closed
    card = owner_dashboard(week, business.tzinfo)["speed"]
    google_url = next(url for speed, url in card.rows if speed.label == "Google LSA")
    google = client.get(google_url).content.decode()
    assert "Lead 9" in google and "Lead 0" not in google

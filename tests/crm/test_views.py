from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Campaign, Lead, Source
from crm.selectors import attribution_report, campaign_cost
from crm.services import LeadIn, lead_capture, lead_mark_contacted, lead_qualify

pytestmark = pytest.mark.django_db


def _leads(source, n, start=0):
    return [
        lead_capture(
            source=source,
            contact=LeadIn(name=f"Lead {i}", phone=f"512555{1000 + i}", service="Drain cleaning"),
        ).lead
        for i in range(start, start + n)
    ]


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_board_and_the_list_run_a_constant_number_of_queries(office, client_for, business, web_source):
    client = client_for(office)
    _leads(web_source, 2)
    client.get(reverse("crm:board"))  # the first visit creates the pipeline settings row
    board, listing = _count(client, reverse("crm:board")), _count(client, reverse("crm:list"))
    leads = _leads(web_source, 30, start=10)
    for lead in leads[:10]:
        lead_qualify(lead=lead, actor=office)
    assert _count(client, reverse("crm:board")) == board
    assert _count(client, reverse("crm:list")) == listing
    assert _count(client, reverse("crm:list") + "?state=qualified&q=Lead") <= listing + 1


def test_dragging_to_an_allowed_column_moves_the_lead(office, client_for, business, web_source):
    lead = _leads(web_source, 1)[0]
    response = client_for(office).post(reverse("crm:move", args=[lead.pk]), {"state": "contacted"})
    assert response.status_code == 200 and response.json()["state"] == "contacted"
    assert f'data-lead="{lead.pk}"' in response.json()["card"]


def test_dragging_to_a_column_the_machine_refuses_is_409_and_changes_nothing(
    office, client_for, business, web_source
):
    lead = _leads(web_source, 1)[0]
    response = client_for(office).post(reverse("crm:move", args=[lead.pk]), {"state": "won"})
    assert response.status_code == 409 and "cannot be won" in response.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).state == "new"


def test_dropping_on_lost_needs_a_reason(office, client_for, business, web_source):
    lead = _leads(web_source, 1)[0]
    client = client_for(office)
    assert client.post(reverse("crm:move", args=[lead.pk]), {"state": "lost"}).status_code == 400
    ok = client.post(reverse("crm:move", args=[lead.pk]), {"state": "lost", "reason": "competitor"})
    assert ok.status_code == 200 and Lead.objects.get(pk=lead.pk).lost_reason == "competitor"


def test_office_enters_a_lead_from_a_call(office, client_for, business, manual_source):
    response = client_for(office).post(
        reverse("crm:create"),
        {
            "name": "Walt Jones",
            "phone": "(512) 555-0101",
            "source": manual_source.pk,
            "service": "Leaking faucet",
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("crm:detail", args=[lead.pk])
    assert lead.source == manual_source and lead.phone == "+15125550101"


def test_entering_a_bad_phone_shows_a_field_error(office, client_for, business, manual_source):
    response = client_for(office).post(
        reverse("crm:create"), {"name": "W", "phone": "12", "source": manual_source.pk}
    )
    assert response.status_code == 200 and "not a valid phone number" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_detail_page_offers_only_allowed_transitions(office, client_for, business, web_source):
    lead = _leads(web_source, 1)[0]
    body = client_for(office).get(reverse("crm:detail", args=[lead.pk])).content.decode()
    assert 'value="mark_contacted"' in body and 'value="qualify"' in body
    assert 'value="win"' not in body and 'value="reopen"' not in body


def test_book_from_the_detail_page(office, client_for, business, web_source):
    lead = lead_qualify(lead=_leads(web_source, 1)[0], actor=office)
    response = client_for(office).post(
        reverse("crm:act", args=[lead.pk]),
        {"action": "book", "service": "Drain cleaning", "notes": "mornings"},
    )
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).state == "booked"


def test_a_technician_cannot_open_leads(technician, client_for, business, web_source):
    lead = _leads(web_source, 1)[0]
    assert client_for(technician).get(reverse("crm:detail", args=[lead.pk])).status_code == 403
    assert (
        client_for(technician).post(reverse("crm:move", args=[lead.pk]), {"state": "contacted"}).status_code
        == 403
    )


def test_creating_a_key_shows_it_once(office, client_for, business, zapier):
    client = client_for(office)
    response = client.post(
        reverse("crm:source", args=[zapier.pk]), {"action": "create_key", "label": "Zapier"}
    )
    body = response.content.decode()
    assert 'data-testid="new-key"' in body and "lk_" in body
    again = client.get(reverse("crm:source", args=[zapier.pk])).content.decode()
    assert 'data-testid="new-key"' not in again


def test_report_counts_leads_fast_answers_booked_and_cost(office, business, web_source, spring_campaign):
    leads = [
        lead_capture(
            source=web_source,
            contact=LeadIn(name=f"L{i}", phone=f"512555{2000 + i}"),
            attribution={"utm_campaign": "spring-ac"},
        ).lead
        for i in range(4)
    ]
    lead_mark_contacted(lead=leads[0], actor=office)  # answered at once
    Lead.objects.filter(pk=leads[1].pk).update(first_response_at=leads[1].arrived_at + timedelta(minutes=9))
    today = timezone.localdate(timezone=business.tzinfo)
    rows = attribution_report(start=today, end=today, tz=business.tzinfo)
    source_row = rows["source"][0]
    assert (source_row.label, source_row.leads, source_row.contacted_fast) == ("Website", 4, 1)
    campaign_row = next(r for r in rows["campaign"] if r.label == "Spring AC tune-up")
    spring_campaign.refresh_from_db()
    assert campaign_row.cost == campaign_cost(spring_campaign, today, today)
    assert campaign_row.cost_per_lead == (campaign_row.cost / 4).quantize(campaign_row.cost.__class__("0.01"))


def test_campaign_cost_is_pro_rated():
    monthly = Campaign(name="m", cost_type="monthly", cost=Decimal("3650.00"), starts_on=date(2026, 1, 1))
    assert campaign_cost(monthly, date(2026, 3, 1), date(2026, 3, 10)) == 1200  # 10 days of 3650*12/365
    total = Campaign(
        name="t",
        cost_type="total",
        cost=Decimal("1000.00"),
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 1, 10),
    )
    assert campaign_cost(total, date(2026, 1, 1), date(2026, 1, 5)) == 500
    assert campaign_cost(total, date(2026, 2, 1), date(2026, 2, 5)) == 0


def test_report_page_renders_for_office(office, client_for, business, web_source):
    _leads(web_source, 2)
    body = client_for(office).get(reverse("crm:report")).content.decode()
    assert "By source" in body and "Website" in body and "Cost / booked job" in body
    assert "Revenue (posted)" in body and "ROI" in body


def test_pipeline_settings_validate_the_threshold(office, client_for, business):
    response = client_for(office).post(reverse("crm:settings"), {"speed_to_lead_minutes": "0"})
    assert "Between 1 minute and 1 day" in response.content.decode()


def test_a_source_slug_must_be_unique(office, client_for, business, zapier):
    response = client_for(office).post(
        reverse("crm:sources"), {"name": "Z2", "kind": "webhook", "slug": "zapier", "is_active": "on"}
    )
    assert "Another source uses this slug" in response.content.decode()
    assert Source.objects.count() == 1

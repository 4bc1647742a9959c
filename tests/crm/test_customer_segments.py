"""Segments over the customer master and the work history crm keeps from fsm's milestones."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.errors import ApplicationError
from crm.segments import services as segments
from crm.segments.models import CustomerEquipment, CustomerHistory, CustomerJobType, Segment
from crm.segments.services import SegmentSpec
from customers import services as customer_services
from fsm import services as fsm
from messaging import services as messaging
from tests.crm.test_automations import deliver
from tests.factories import make_customer
from tests.fsm.estimate_helpers import austin_tax, issued_invoice
from tests.fsm.factories import JobTypeFactory, make_job, make_technician, schedule, services_property

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("America/Chicago"))


@time_machine.travel(NOW, tick=False)
def test_completed_work_paid_invoices_refunds_and_equipment_become_the_customer_s_history(business, office):
    austin_tax()
    tune_up = JobTypeFactory(name="AC tune-up")
    tech = make_technician()
    job = make_job(actor=office, job_type=tune_up)
    schedule(job, start=NOW + timedelta(hours=1), technicians=[tech], actor=office)
    fsm.job_arrive(job=job, actor=tech)
    fsm.job_complete(job=job, actor=tech, completion_note="Coils cleaned")
    invoice = issued_invoice(customer=job.customer, actor=office, amount="300.00")
    from fsm.invoices import services as invoices

    invoices.payment_record(invoice=invoice, actor=office, method="card", amount=invoice.total)
    invoices.credit_note_issue(invoice=invoice, actor=office, amount="50.00", reason="Goodwill", refund=True)
    fsm.equipment_save(
        property=job.property, actor=office, kind="Water heater", installed_on=date(2012, 5, 1)
    )
    deliver("crm.segments.")
    history = CustomerHistory.objects.get(customer=job.customer)
    assert history.jobs_completed == 1 and history.last_job_at == NOW
    assert history.lifetime_spend == invoice.total - Decimal("50.00")
    assert CustomerJobType.objects.get(customer=job.customer).job_type == "AC tune-up"
    assert CustomerEquipment.objects.get(customer=job.customer).installed_on == date(2012, 5, 1)


def _with_history(*, months_ago: int, spend: str = "0", job_type: str = "", zip_code: str = "78704", **kw):
    customer = make_customer(properties=[services_property(zip_code=zip_code)], **kw)
    segments.history_job_completed(
        customer_id=customer.pk, at=NOW - timedelta(days=30 * months_ago), job_type=job_type
    )
    segments.history_spend(customer_id=customer.pk, amount=Decimal(spend))
    return customer


@time_machine.travel(NOW, tick=False)
def test_each_filter_narrows_the_segment(business, office):
    old_ac = _with_history(months_ago=14, spend="2400", job_type="AC tune-up", zip_code="78745")
    recent = _with_history(months_ago=2, spend="300", job_type="AC tune-up")
    old_drain = _with_history(months_ago=20, spend="150", job_type="Drain cleaning")
    segments.history_equipment(
        customer_id=old_drain.pk, equipment_id=1, kind="Water heater", installed_on=date(2013, 1, 1)
    )
    never = make_customer()

    def matching(**spec) -> set[int]:
        return set(segments.segment_queryset(SegmentSpec(**spec), now=NOW).values_list("pk", flat=True))

    assert matching() == {old_ac.pk, recent.pk, old_drain.pk, never.pk}
    assert matching(last_job_months=12) == {old_ac.pk, old_drain.pk}
    assert matching(last_job_months=12, job_types=["AC tune-up"]) == {old_ac.pk}
    assert matching(equipment_kind="water heater", equipment_min_age_years=10) == {old_drain.pk}
    assert matching(equipment_kind="water heater", equipment_min_age_years=15) == set()
    assert matching(zip_codes=["78745"]) == {old_ac.pk}
    assert matching(min_spend=Decimal("1000")) == {old_ac.pk}
    assert matching(max_spend=Decimal("200")) == {old_drain.pk, never.pk}
    messaging.message_queue(to=recent.phones.first().number.as_e164, body="Hi", customer=recent)
    assert matching(not_contacted_days=30) == {old_ac.pk, old_drain.pk, never.pk}
    assert segments.segment_count(SegmentSpec(last_job_months=12), now=NOW) == 2


@time_machine.travel(NOW, tick=False)
def test_opted_out_merged_and_unreachable_customers_are_never_in_a_segment(business, office):
    kept = _with_history(months_ago=14)
    opted_out = _with_history(months_ago=14)
    customer_services.consent_record(
        number=opted_out.phones.first().number.as_e164, state="opted_out", method="sms"
    )
    no_mobile = make_customer(phones=[], emails=["x@example.com"])
    duplicate = _with_history(months_ago=30, spend="100")
    customer_services.customer_merge(survivor=kept, duplicate=duplicate, actor=office)
    assert set(segments.segment_queryset(SegmentSpec(), now=NOW).values_list("pk", flat=True)) == {kept.pk}
    assert no_mobile.pk not in segments.segment_queryset(SegmentSpec(), now=NOW).values_list("pk", flat=True)
    history = CustomerHistory.objects.get(customer=kept)
    assert history.jobs_completed == 2 and history.first_job_at == NOW - timedelta(days=900)


def test_bad_filters_and_names_are_refused(business):
    with pytest.raises(ApplicationError, match="less than the least"):
        SegmentSpec.from_json({"min_spend": "500", "max_spend": "100"})
    with pytest.raises(ApplicationError, match="whole number"):
        SegmentSpec.from_json({"last_job_months": -3})
    with pytest.raises(ApplicationError, match="at least one filter"):
        segments.segment_save(name="Everyone", spec=SegmentSpec())
    spec = SegmentSpec.from_json({"last_job_months": 12, "zip_codes": [" 78704 ", "78704", ""]})
    assert spec.zip_codes == ["78704"]
    segments.segment_save(name="Tune-up due", spec=spec)
    with pytest.raises(ApplicationError, match="already a segment"):
        segments.segment_save(name="Tune-up  due", spec=spec)


@time_machine.travel(NOW, tick=False)
def test_the_builder_counts_live_and_saves_a_segment(business, owner, client_for):
    _with_history(months_ago=14, spend="900", job_type="AC tune-up")
    _with_history(months_ago=3, spend="100", job_type="AC tune-up")
    client = client_for(owner)
    page = client.get("/leads/segments/new/", {"last_job_months": "12"})
    assert page.status_code == 200 and page.context["count"] == 1
    partial = client.get("/leads/segments/new/", {"last_job_months": "12"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<section class="card" id="segment-result"')
    saved = client.post("/leads/segments/new/", {"name": "Tune-up due", "last_job_months": "12"})
    segment = Segment.objects.get(name="Tune-up due")
    assert saved.status_code == 302 and segment.spec["last_job_months"] == 12
    listing = client.get("/leads/segments/")
    assert [s.name for s in listing.context["segments"]] == ["Tune-up due"]
    assert f'hx-get="/leads/segments/{segment.pk}/counts/"' in listing.content.decode()
    counts = client.get(f"/leads/segments/{segment.pk}/counts/", HTTP_HX_REQUEST="true")
    row = counts.content.decode().strip()
    assert row.startswith('<tr data-testid="segment-row">') and row.endswith("</tr>")
    assert 'data-testid="segment-count">1</td>' in row and "0 <span" in row  # none opted in to offers
    again = client.get(f"/leads/segments/{segment.pk}/")
    assert again.context["count"] == 1, again.context["form"].errors
    assert again.context["form"]["last_job_months"].value() == "12"


def test_the_builder_refuses_bad_filters_and_an_empty_segment_saving_nothing(business, owner, client_for):
    client = client_for(owner)
    bad = client.post("/leads/segments/new/", {"name": "X", "min_spend": "500", "max_spend": "100"})
    assert bad.status_code == 400 and "less than the least" in bad.content.decode()
    empty = client.post("/leads/segments/new/", {"name": "Everyone"})
    assert empty.status_code == 400 and "at least one filter" in empty.content.decode()
    nobody = client.get("/leads/segments/new/", {"min_spend": "99999"})
    assert nobody.context["count"] == 0 and "would reach no one" in nobody.content.decode()
    assert not Segment.objects.exists()


def test_technicians_and_dispatchers_cannot_see_segments(business, technician, dispatcher, client_for):
    for user in (technician, dispatcher):
        assert client_for(user).get("/leads/segments/").status_code == 403
        assert client_for(user).get("/leads/segments/new/").status_code == 403
        assert client_for(user).get("/leads/segments/1/counts/").status_code == 403

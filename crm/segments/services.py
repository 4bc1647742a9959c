"""Segments: which customers a reactivation campaign reaches, counted live over the customer master and
the work history crm keeps from fsm's milestones (crm.segments.models).

A segment never includes a merged-away customer, nor one without a mobile number that takes texts and has
not opted out: a campaign is texts. Of those, a campaign reaches the ones who opted in to marketing texts
(`marketing=True`; the consent ledger refuses marketing to anyone else). Each filter left empty does not
narrow it."""

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from common.errors import ApplicationError
from customers.models import Customer, PhoneNumber, Property
from messaging.models import Message

from .models import CustomerEquipment, CustomerHistory, CustomerJobType, Segment

PREVIEW = 20


@dataclass
class SegmentSpec:
    last_job_months: int | None = None  # the last completed job is at least this many months old
    job_types: list[str] = field(default_factory=list)  # had one of these done
    equipment_kind: str = ""  # has this kind of unit ("water heater")...
    equipment_min_age_years: int | None = None  # ...installed at least this many years ago
    zip_codes: list[str] = field(default_factory=list)
    min_spend: Decimal | None = None
    max_spend: Decimal | None = None
    not_contacted_days: int | None = None  # no text or e-mail from us in this many days
    tags: list[str] = field(default_factory=list)  # tagged with any of these

    @classmethod
    def from_json(cls, data: dict) -> "SegmentSpec":
        known = {f.name for f in fields(cls)}
        spec = cls(**{k: v for k, v in (data or {}).items() if k in known})
        for name in ("min_spend", "max_spend"):
            value = getattr(spec, name)
            if value not in (None, ""):
                try:
                    setattr(spec, name, Decimal(str(value)))
                except InvalidOperation as exc:
                    raise ApplicationError("Give an amount in dollars.", field=name) from exc
        spec.check()
        return spec

    def as_json(self) -> dict:
        data = asdict(self)
        for name in ("min_spend", "max_spend"):
            data[name] = str(data[name]) if data[name] is not None else None
        return data

    def check(self) -> None:
        for name in ("last_job_months", "equipment_min_age_years", "not_contacted_days"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0 or value > 600):
                raise ApplicationError("Give a whole number from 0.", field=name)
        if self.min_spend is not None and self.max_spend is not None and self.max_spend < self.min_spend:
            raise ApplicationError("The most is less than the least.", field="max_spend")
        self.zip_codes = sorted({z.strip()[:10] for z in self.zip_codes if z and z.strip()})
        self.job_types = sorted({t.strip()[:100] for t in self.job_types if t and t.strip()})
        self.equipment_kind = self.equipment_kind.strip()[:80]
        self.tags = sorted({t.strip()[:40] for t in self.tags if t and t.strip()}, key=str.lower)

    @property
    def empty(self) -> bool:
        return self == SegmentSpec()


def _months_ago(now: datetime, months: int) -> datetime:
    return now - timedelta(days=round(months * 30.44))


def _equipment_matching(spec: SegmentSpec, now: datetime) -> QuerySet[CustomerEquipment]:
    units = CustomerEquipment.objects.filter(customer=OuterRef("pk"))
    if spec.equipment_kind:
        units = units.filter(kind__icontains=spec.equipment_kind)
    if spec.equipment_min_age_years is not None:
        born = date(now.year - spec.equipment_min_age_years, now.month, min(now.day, 28))
        units = units.filter(installed_on__lte=born)
    return units


def segment_queryset(
    spec: SegmentSpec, *, now: datetime | None = None, marketing: bool = False
) -> QuerySet[Customer]:
    """The customers matching `spec`. `marketing`: only those who opted in to marketing texts (what a
    reactivation campaign may send to; the others match but are not reachable by one)."""
    now = now or timezone.now()
    textable = PhoneNumber.objects.filter(customer=OuterRef("pk"), textable=True).exclude(
        sms_consent=PhoneNumber.Consent.OPTED_OUT
    )
    if marketing:
        textable = textable.filter(sms_consent=PhoneNumber.Consent.OPTED_IN)
    query = Customer.objects.filter(merged_into__isnull=True).filter(Exists(textable))
    if spec.last_job_months is not None:
        query = query.filter(history__last_job_at__lt=_months_ago(now, spec.last_job_months))
    if spec.job_types:
        query = query.filter(
            Exists(CustomerJobType.objects.filter(customer=OuterRef("pk"), job_type__in=spec.job_types))
        )
    if spec.equipment_kind or spec.equipment_min_age_years is not None:
        query = query.filter(Exists(_equipment_matching(spec, now)))
    if spec.zip_codes:
        query = query.filter(
            Exists(Property.objects.filter(customer=OuterRef("pk"), zip_code__in=spec.zip_codes))
        )
    if spec.tags:
        tagged = Customer.tags.through.objects.annotate(tag_name=Lower("tag__name")).filter(
            customer_id=OuterRef("pk"), tag_name__in=[t.lower() for t in spec.tags]
        )
        query = query.filter(Exists(tagged))
    if spec.min_spend is not None:
        query = query.filter(history__lifetime_spend__gte=spec.min_spend)
    if spec.max_spend is not None:
        query = query.filter(Q(history__lifetime_spend__lte=spec.max_spend) | Q(history__isnull=True))
    if spec.not_contacted_days is not None:
        recent = Message.objects.filter(
            customer=OuterRef("pk"),
            direction=Message.Direction.OUTBOUND,
            created_at__gte=now - timedelta(days=spec.not_contacted_days),
        )
        query = query.filter(~Exists(recent))
    return query


def segment_count(spec: SegmentSpec, *, now: datetime | None = None, marketing: bool = False) -> int:
    return segment_queryset(spec, now=now, marketing=marketing).count()


def segment_preview(spec: SegmentSpec, *, now: datetime | None = None) -> list[Customer]:
    return list(
        segment_queryset(spec, now=now).select_related("history").order_by("sort_name", "pk")[:PREVIEW]
    )


def segment_save(*, name: str, spec: SegmentSpec, actor=None, segment: Segment | None = None) -> Segment:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise ApplicationError("Give the segment a name.", field="name")
    if spec.empty:
        raise ApplicationError("Choose at least one filter.", field="spec")
    if Segment.objects.filter(name=name).exclude(pk=segment.pk if segment else None).exists():
        raise ApplicationError(f"There is already a segment called {name}.", field="name")
    segment = segment or Segment(created_by=actor if actor is not None and actor.is_authenticated else None)
    segment.name, segment.spec = name, spec.as_json()
    segment.save()
    return segment


# --- The work history, from milestones ------------------------------------------------------------------


def history_job_completed(*, customer_id: int, at: datetime, job_type: str) -> None:
    with transaction.atomic():
        history, _ = CustomerHistory.objects.select_for_update().get_or_create(customer_id=customer_id)
        history.jobs_completed += 1
        history.first_job_at = min(filter(None, (history.first_job_at, at)))
        history.last_job_at = max(filter(None, (history.last_job_at, at)))
        history.save()
        if job_type:
            kept, made = CustomerJobType.objects.get_or_create(
                customer_id=customer_id, job_type=job_type[:100], defaults={"last_at": at}
            )
            if not made and at > kept.last_at:
                CustomerJobType.objects.filter(pk=kept.pk).update(last_at=at)


def history_spend(*, customer_id: int, amount: Decimal) -> None:
    """Paid work adds to the lifetime spend; a refund takes away."""
    with transaction.atomic():
        history, _ = CustomerHistory.objects.select_for_update().get_or_create(customer_id=customer_id)
        history.lifetime_spend += amount
        history.save(update_fields=["lifetime_spend"])


def history_equipment(*, customer_id: int, equipment_id: int, kind: str, installed_on: date | None) -> None:
    CustomerEquipment.objects.update_or_create(
        equipment_id=equipment_id,
        defaults={"customer_id": customer_id, "kind": kind[:80], "installed_on": installed_on},
    )

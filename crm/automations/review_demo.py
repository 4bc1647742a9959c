"""Demo review requests: the settings switched on with a place ID, and a dozen requests over the last
two months made, sent, clicked and scored through the services with the clock moved back (one with a
low score, so the owner has a call task)."""

from datetime import timedelta

from django.utils import timezone

from customers.models import Customer
from events.backdate import clock_at
from messaging.models import Message
from users.models import User
from users.roles import Role

from . import reviews
from .review_models import ReviewSettings

DEMO_PLACE_ID = "ChIJN1t_tDeuEmsRUsoyG83frY4"
SCORES = [5, 5, 4, None, 5, 2, None, 4, 5, None, 3, 5]


def seed_reviews(*, rng, log) -> None:
    rules = ReviewSettings.current()
    values = {name: getattr(rules, name) for name in ReviewSettings.EDITABLE}
    values.update(enabled=True, google_place_id=DEMO_PLACE_ID, google_review_url="")
    reviews.review_settings_update(review_settings=rules, actor=None, **values)
    technicians = list(User.objects.filter(groups__name=Role.TECHNICIAN, is_active=True).order_by("pk"))
    now = timezone.now()
    customers = _quiet_customers(len(SCORES), before=now - timedelta(days=7))
    made = 0
    for i, (customer, score) in enumerate(zip(customers, SCORES, strict=False)):
        tech = technicians[i % len(technicians)] if technicians else None
        planned = now - timedelta(days=60 - i * 5, hours=rng.randint(0, 5))
        # Never before the customer existed (their timeline starts with themselves).
        paid_at = min(max(planned, customer.created_at + timedelta(hours=1)), now - timedelta(days=5))
        made += _story(rng, customer, tech, paid_at, score, index=i)
    log(f"Review requests switched on; {made} requests sent, clicked and scored over two months.")


def _story(rng, customer, tech, paid_at, score, *, index: int) -> int:
    with clock_at(paid_at):
        request = reviews.review_request_create(
            customer_id=customer.pk,
            milestone="invoice.paid",
            subject_key=f"demo:{index}",
            occurred_at=paid_at,
            technician_id=tech.pk if tech else None,
            technician_first_name=tech.first_name if tech else "",
        )
    if request is None:
        return 0
    with clock_at(request.due_at):
        reviews.reviews_tick(now=request.due_at)
    request.refresh_from_db()
    if request.sent_at is None:
        return 0
    _delivered(request.message_id, request.sent_at)
    if rng.random() < 0.7:
        with clock_at(request.sent_at + timedelta(minutes=rng.randint(3, 300))):
            reviews.review_click(token=request.token)
    request.refresh_from_db()
    if request.due_at is not None and request.due_at <= timezone.now():  # not opened: the reminder went then
        with clock_at(request.due_at):
            reviews.reviews_tick(now=request.due_at)
        request.refresh_from_db()
        _delivered(request.reminder_message_id, request.reminded_at)
    if score is not None:
        at = request.sent_at + timedelta(minutes=rng.randint(5, 120))
        with clock_at(at):
            reviews.review_score_record(customer_id=customer.pk, body=str(score), now=at)
    return 1


def _delivered(message_id: int | None, at) -> None:
    """Delivered back then (as crm.demo's conversations): the worker must not send two-month-old texts."""
    Message.objects.filter(pk=message_id, status__in=[Message.Status.QUEUED, Message.Status.HELD]).update(
        status=Message.Status.DELIVERED, sent_at=at, delivered_at=at, not_before=None
    )


def _quiet_customers(count: int, *, before) -> list[Customer]:
    """Customers with a number that takes texts and no message yet (so no cap holds the demo's texts)."""
    messaged = Message.objects.exclude(customer=None).values("customer_id")
    return list(
        Customer.objects.active()
        .filter(phones__textable=True, created_at__lt=before)
        .exclude(pk__in=messaged)
        .distinct()
        .order_by("pk")[:count]
    )

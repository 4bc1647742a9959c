"""Review requests (the return handoff): fsm's invoice.paid or job.completed makes a pending request; the
`reviews-tick` beat task sends it when due through the messaging outbox; the customer's click on
/r/<token> is recorded and redirected to Google; a 1-5 score texted back is recorded and a low one
alerts the owner.

The rules:
- Once per milestone subject (unique subject_key "invoice:12" / "job:7": a duplicate delivery or a second
  payment milestone makes nothing new), and never a customer asked in the last `min_days_between` days.
- Durable: the request is a row with a due time; `reviews_tick` takes what is due under row locks (SKIP
  LOCKED: two workers never take the same row) and queues the message in the transaction that marks it
  sent. Consent and quiet hours are messaging.message_queue's; the frequency caps
  (messaging.frequency, the owner's AutomationSettings) make a request wait, never drop it.
- A text when the customer has a number that takes texts and has not opted out, else an e-mail.
- One reminder `reminder_days` later, only when the link was not opened.
- NO REVIEW GATING. The review link is in the first message, always; the optional score is asked in that
  same message. `review_score_record` records a score and alerts the owner when it is low; it never
  sends, holds or withholds a link, and nothing else reads the score before sending.
"""

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from common.errors import ApplicationError, NotFound
from customers import services as customer_services
from customers.models import Customer
from events import services as events
from messaging import services as messaging
from messaging.frequency import frequency_release
from messaging.models import Message
from users.models import User
from users.roles import Role

from .engine import template_check
from .models import AutomationSettings, Task
from .review_models import SCORE_QUESTION, ReviewRequest, ReviewSettings

logger = logging.getLogger(__name__)
BATCH = 200
SUBJECT = "review"  # the messages' template: the frequency caps' subject
STALE_MILESTONE = timedelta(days=2)  # a milestone delivered later than this (a replay, old demo work)
SCORE_WINDOW = timedelta(days=30)  # a reply this long after the request is not taken as its score
RETRY_AFTER_ERROR = timedelta(minutes=15)
TOO_LATE = timedelta(days=7)  # a request or reminder this overdue is not sent
SCORE = re.compile(r"^\s*([1-5])\s*(?:(?:/|out of|of)\s*5)?\s*(?:stars?)?\s*[.!]*\s*$", re.IGNORECASE)
TRAILING = re.compile(r"[^A-Za-z0-9_-]+$")  # never in a token (secrets.token_urlsafe)
PLACE_ID = re.compile(r"^[A-Za-z0-9_-]{10,200}$")
State = ReviewRequest.State


# --- Settings -------------------------------------------------------------------------------------------


def review_settings_update(*, review_settings: ReviewSettings, actor, **values) -> ReviewSettings:
    """Save the owner's settings; ApplicationError names the field at fault (the form shows it there)."""
    _check_templates(values)
    _check_google(values)
    limits = {"low_score_threshold": (1, 4), "delay_hours": (0, 24 * 14), "reminder_days": (0, 30)}
    for name, (low, high) in limits.items():
        if not low <= values[name] <= high:
            raise ApplicationError(f"Choose {low} to {high}.", field=name)
    with transaction.atomic():
        for name, value in values.items():
            setattr(review_settings, name, value)
        review_settings.save()
        events.record(
            "crm.reviews.settings_updated",
            subject=review_settings,
            actor=actor,
            summary="Review request settings " + ("switched on" if values["enabled"] else "saved (off)"),
        )
    return review_settings


def _check_templates(values: dict) -> None:
    for name in ("sms_template", "email_template", "reminder_template", "email_subject"):
        values[name] = template_check(values[name], field=name)
    for name in ("sms_template", "email_template", "reminder_template"):
        if "{review_link}" not in values[name]:
            raise ApplicationError("Put {review_link} in the message: it is the point of it.", field=name)


def _check_google(values: dict) -> None:
    values["google_place_id"] = values["google_place_id"].strip()
    if values["google_place_id"] and not PLACE_ID.match(values["google_place_id"]):
        raise ApplicationError(
            "A place ID is letters, digits, - and _ (e.g. ChIJN1t_tDeuEmsRUsoyG83frY4).",
            field="google_place_id",
        )
    if values["google_review_url"] and not values["google_review_url"].startswith("https://"):
        raise ApplicationError("Give an https:// link.", field="google_review_url")
    if values["enabled"] and not (values["google_review_url"] or values["google_place_id"]):
        raise ApplicationError(
            "Give your Google review link or place ID to switch it on.", field="google_place_id"
        )


# --- Requests -------------------------------------------------------------------------------------------


def review_request_create(
    *,
    customer_id: int,
    milestone: str,
    subject_key: str,
    occurred_at: datetime,
    job_id: int | None = None,
    invoice_id: int | None = None,
    technician_id: int | None = None,
    technician_first_name: str = "",
    now: datetime | None = None,
) -> ReviewRequest | None:
    """A pending request due `delay_hours` after the milestone; the existing one for the same subject;
    None when the customer was asked in the last `min_days_between` days (or is gone)."""
    rules = ReviewSettings.current()
    now = now or timezone.now()
    customer = _survivor(customer_id)
    if customer is None:
        return None
    found = ReviewRequest.objects.filter(subject_key=subject_key).first()
    if found:
        return found
    since = now - timedelta(days=rules.min_days_between)
    if ReviewRequest.objects.filter(customer=customer, created_at__gt=since).exists():
        events.record(
            "crm.reviews.not_requested",
            subject=customer,
            actor_label="reviews",
            summary=f"No review request: asked in the last {rules.min_days_between} days",
            data={"subject_key": subject_key},
        )
        return None
    try:
        with transaction.atomic():
            return ReviewRequest.objects.create(
                customer=customer,
                subject_key=subject_key,
                milestone=milestone,
                job_id=job_id,
                invoice_id=invoice_id,
                technician_id=technician_id if User.objects.filter(pk=technician_id).exists() else None,
                technician_first_name=technician_first_name[:150],
                due_at=occurred_at + timedelta(hours=rules.delay_hours),
                created_at=now,
            )
    except IntegrityError:  # the same subject at the same moment (a duplicate delivery)
        return ReviewRequest.objects.get(subject_key=subject_key)


def review_request_from_milestone(event) -> ReviewRequest | None:
    """The subscriber's work: only the configured milestone, while switched on, and not stale."""
    rules = ReviewSettings.current()
    if not rules.enabled or event.milestone != rules.trigger:
        return None
    if event.occurred_at < timezone.now() - STALE_MILESTONE:
        return None
    data = event.data
    key = f"invoice:{data['invoice_id']}" if event.milestone == "invoice.paid" else f"job:{data['job_id']}"
    return review_request_create(
        customer_id=data["customer_id"],
        milestone=event.milestone,
        subject_key=key,
        occurred_at=event.occurred_at,
        job_id=data.get("job_id"),
        invoice_id=data.get("invoice_id"),
        technician_id=data.get("technician_id"),
        technician_first_name=data.get("technician_first_name") or "",
    )


def _survivor(customer_id: int | None) -> Customer | None:
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    while customer is not None and customer.merged_into_id:
        customer = customer.merged_into
    return customer


# --- The scheduler --------------------------------------------------------------------------------------


def reviews_tick(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Send every due request and reminder (batches of `batch`, each one transaction); returns how many
    messages were queued."""
    now = now or timezone.now()
    rules, caps = ReviewSettings.current(), AutomationSettings.current()
    if not rules.enabled:
        return 0
    done = 0
    while True:
        with transaction.atomic():
            due = list(
                ReviewRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer")
                .prefetch_related("customer__phones", "customer__emails")
                .filter(due_at__lte=now, state__in=(State.PENDING, State.SENT))
                .order_by("due_at", "pk")[:batch]
            )
            for request in due:
                done += _step_safely(request, rules, caps, now)
        if len(due) < batch:
            return done


def _step_safely(request: ReviewRequest, rules: ReviewSettings, caps, now: datetime) -> int:
    try:
        with transaction.atomic():
            return _step(request, rules, caps, now)
    except Exception as exc:  # one request's trouble never holds up the rest of the batch
        logger.exception("Review request %s failed", request.pk)
        ReviewRequest.objects.filter(pk=request.pk).update(
            due_at=now + RETRY_AFTER_ERROR, waiting_reason=f"Error, retrying: {exc}"[:200]
        )
        return 0


def _step(request: ReviewRequest, rules: ReviewSettings, caps, now: datetime) -> int:
    """The request's due action: the request itself (pending) or the one reminder (sent, not opened)."""
    reminder = request.state == State.SENT
    if reminder and (request.clicked_at or request.reminded_at):
        _save(request, due_at=None)
        return 0
    if request.due_at < now - TOO_LATE:  # switched off for weeks, a worker down: the moment has passed
        _give_up(request, now, f"Too late: due on {request.due_at:%b %-d} (switched off or no worker)")
        return 0
    channel, to = _route(request.customer)
    if not to:
        _give_up(request, now, "The customer has no number that takes texts and no e-mail address")
        return 0
    at, why = frequency_release(
        customer=request.customer,
        number=to if channel == ReviewRequest.Channel.SMS else "",
        subject=SUBJECT,
        now=now,
        per_day=caps.max_per_day,
        per_week=caps.max_per_week,
    )
    if at is not None:  # a cap: wait, never drop
        _save(request, due_at=at, waiting_reason=why)
        return 0
    message = _queue(request, rules, channel, to, now, reminder=reminder)
    if message.status == Message.Status.SUPPRESSED:
        _give_up(request, now, message.error_message)
        return 0
    if reminder:
        _save(request, reminded_at=now, reminder_message=message, due_at=None, waiting_reason="")
    else:
        again = now + timedelta(days=rules.reminder_days) if rules.reminder_days else None
        _save(
            request,
            state=State.SENT,
            sent_at=now,
            channel=channel,
            message=message,
            due_at=again,
            waiting_reason="",
        )
    return 1


def _route(customer: Customer) -> tuple[str, str]:
    """(channel, address): a text to a number that takes texts and has not refused automated ones, else
    an e-mail; ("", "") when neither."""
    phones = sorted((p for p in customer.phones.all() if p.textable), key=lambda p: (not p.is_primary, p.pk))
    for phone in phones:
        number = phone.number.as_e164
        if not customer_services.consent_check(number=number, purpose=Message.Purpose.AUTOMATED):
            return ReviewRequest.Channel.SMS, number
    emails = sorted(customer.emails.all(), key=lambda e: (not e.is_primary, e.pk))
    return (ReviewRequest.Channel.EMAIL, emails[0].email) if emails else ("", "")


def review_link(request: ReviewRequest) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("review-click", args=[request.token])


def review_body(request: ReviewRequest, rules: ReviewSettings, *, channel: str, reminder: bool) -> str:
    """The message. The review link is always in it (added if a template lost it); the score question
    (when asked for) follows it as an optional reply, in the same message."""
    template = {
        (False, ReviewRequest.Channel.SMS): rules.sms_template,
        (False, ReviewRequest.Channel.EMAIL): rules.email_template,
    }.get((reminder, channel), rules.reminder_template)
    link = review_link(request)
    fields = {"technician": request.technician_first_name or "our technician", "review_link": link}
    body = messaging.render_template(template, customer=request.customer, extra=fields)
    if link not in body:
        body = f"{body} {link}"
    if rules.ask_score and not reminder:
        body = f"{body}\n{SCORE_QUESTION}"
    return body


def _queue(request, rules, channel: str, to: str, now: datetime, *, reminder: bool) -> Message:
    body = review_body(request, rules, channel=channel, reminder=reminder)
    if channel == ReviewRequest.Channel.SMS:
        return messaging.message_queue(
            to=to,
            body=body,
            purpose=Message.Purpose.AUTOMATED,
            customer=request.customer,
            template=SUBJECT,
            now=now,
        )
    subject = messaging.render_template(
        rules.email_subject, customer=request.customer, extra={"technician": request.technician_first_name}
    )
    return messaging.email_queue(
        to=to,
        subject=subject,
        body=body,
        customer=request.customer,
        purpose=Message.Purpose.AUTOMATED,
        template=SUBJECT,
    )


def _give_up(request: ReviewRequest, now: datetime, why: str) -> None:
    if request.state == State.PENDING:
        _save(request, state=State.NOT_SENT, due_at=None, note=why[:200], waiting_reason="")
    else:  # the reminder could not go: the request itself stands
        _save(request, due_at=None, waiting_reason="")


def _save(request: ReviewRequest, **changes) -> None:
    for name, value in changes.items():
        setattr(request, name, value)
    request.save(update_fields=list(changes))


# --- The customer's side --------------------------------------------------------------------------------


def review_click(*, token: str, now: datetime | None = None) -> str:
    """Record a click on /r/<token> and return where to send the customer; NotFound for a token that is
    not a request's or when no review page is set. The first click cancels the reminder."""
    now = now or timezone.now()
    token = TRAILING.sub("", token)  # a phone that took "link." or "(link)" with the link
    url = ReviewSettings.current().review_url
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().filter(token=token).first()
        if request is None or not url:
            raise NotFound("No such page.")
        first = request.clicked_at is None
        request.click_count += 1
        request.clicked_at = request.clicked_at or now
        changed = ["click_count", "clicked_at"]
        if request.state == State.SENT:
            request.state, request.due_at = State.CLICKED, None
            changed += ["state", "due_at"]
        request.save(update_fields=changed)
        if first:
            events.record(
                "crm.reviews.clicked",
                subject=request,
                actor_label="customer",
                links=[request.customer],
                summary="Opened the review link",
            )
    return url


def score_of(body: str) -> int | None:
    """1-5 when the reply's first line is a score ("4", "5/5", "4 stars", "3 out of 5"; what follows it,
    a comment or an e-mail's "Sent from my phone", does not matter), else None."""
    first = next((line for line in (body or "").splitlines() if line.strip()), "")
    match = SCORE.match(first)
    return int(match[1]) if match else None


def review_score_record(
    *, customer_id: int | None, body: str, now: datetime | None = None
) -> ReviewRequest | None:
    """A text that is a 1-5 score, from a customer with a review request sent in the last 30 days and not
    scored yet: recorded on the latest. A score at or below the threshold makes a task for the owner to
    call. Nothing here sends, holds or withholds the review link (it went in the request itself)."""
    score = score_of(body)
    customer = _survivor(customer_id)
    if score is None or customer is None:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            ReviewRequest.objects.select_for_update()
            .filter(customer=customer, sent_at__gt=now - SCORE_WINDOW, score__isnull=True)
            .order_by("-sent_at", "-pk")
            .first()
        )
        if request is None:
            return None
        request.score, request.score_at = score, now
        request.save(update_fields=["score", "score_at"])
        events.record(
            "crm.reviews.scored",
            subject=request,
            actor_label="customer",
            links=[customer],
            summary=f"Scored the work {score}/5",
            data={"score": score},
        )
        if score <= ReviewSettings.current().low_score_threshold:
            request.alert_task = _alert_owner(request, customer, score, now)
            request.save(update_fields=["alert_task"])
    return request


def _alert_owner(request: ReviewRequest, customer: Customer, score: int, now: datetime) -> Task:
    """The owner's task to call (on their task list and the customer's timeline)."""
    owner = User.objects.filter(is_active=True, groups__name=Role.OWNER).order_by("pk").first()
    task = Task.objects.create(
        title=f"Call {customer} about their {score}/5"[:150],
        notes=f"They scored the work {score}/5 in reply to the review request"
        + (f" (technician: {request.technician_first_name})." if request.technician_first_name else "."),
        customer=customer,
        assignee=owner,
        due_at=now + timedelta(hours=4),
    )
    events.record(
        "crm.reviews.low_score",
        subject=request,
        actor_label="reviews",
        links=[customer],
        summary=f"Low score {score}/5: a call task for {owner or 'the owner'}",
        data={"score": score, "task_id": task.pk},
    )
    return task


def low_scores_to_call(*, limit: int = 20) -> list[ReviewRequest]:
    """Low scores whose call task is not done yet, newest first (the owner's list on the report)."""
    return list(
        ReviewRequest.objects.filter(alert_task__isnull=False, alert_task__done_at__isnull=True)
        .select_related("customer", "alert_task")
        .order_by("-score_at", "-pk")[:limit]
    )


# --- The report -----------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    label: str
    sent: int = 0
    clicked: int = 0
    scored: int = 0
    score_total: int = 0

    @property
    def click_rate(self) -> float | None:
        return round(100 * self.clicked / self.sent, 1) if self.sent else None

    @property
    def average_score(self) -> float | None:
        return round(self.score_total / self.scored, 1) if self.scored else None

    def add(self, request: dict) -> None:
        self.sent += 1
        self.clicked += request["clicked_at"] is not None
        if request["score"] is not None:
            self.scored += 1
            self.score_total += request["score"]


def review_report(*, start, end, tz) -> dict:
    """Requests sent between two dates (the business's days): the totals, by technician and by month."""
    first = datetime.combine(start, datetime.min.time(), tz)
    last = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    rows = (
        ReviewRequest.objects.filter(sent_at__gte=first, sent_at__lt=last)
        .order_by("sent_at")
        .values("sent_at", "clicked_at", "score", "technician_first_name")
    )
    total, by_tech, by_month = ReportRow("All requests"), {}, {}
    for row in rows:
        total.add(row)
        tech = row["technician_first_name"] or "No technician"
        by_tech.setdefault(tech, ReportRow(tech)).add(row)
        month = timezone.localtime(row["sent_at"], tz).strftime("%Y-%m")
        by_month.setdefault(month, ReportRow(_month_label(month))).add(row)
    return {
        "total": total,
        "technicians": sorted(by_tech.values(), key=lambda r: (-r.sent, r.label)),
        "months": [by_month[key] for key in sorted(by_month)],
    }


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{calendar.month_abbr[int(month)]} {year}"

"""Appointment texts: fsm's real milestones (schedule, on my way, complete, the day-before reminder task)
delivered to crm's subscribers, which put one text each in the outbox."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from crm.forms import MessagingSettingsForm
from customers.services import consent_record
from events import services as events
from events.models import Delivery, Event
from events.selectors import timeline_for
from fsm import services
from fsm.services import visit_reminders_publish
from fsm.tasks import visit_reminders
from messaging import services as messaging
from messaging.models import Message, MessagingSettings
from tests.factories import make_customer
from tests.fsm.factories import at, make_job, make_technician, schedule, services_property

pytestmark = pytest.mark.django_db

BOOKED = "2030-05-31 10:00 -05:00"  # a Friday morning: the office books the job
TUESDAY = date(2030, 6, 4)  # the visit
MONDAY_NIGHT = "2030-06-03 00:10 -05:00"  # the first reminder run of the day before
PHONE = "+15125550199"


@pytest.fixture
def tech(technician):
    technician.first_name = "Marco"
    technician.save(update_fields=["first_name"])
    return make_technician(user=technician)


@pytest.fixture
def job(office, business):
    ana = make_customer(
        actor=office, first_name="Ana", phones=["512-555-0199"], properties=[services_property()]
    )
    return make_job(actor=office, customer=ana)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block, then what a worker does after commit: fan out, deliver, send."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def book(job, *, technicians=(), day=TUESDAY, actor=None):
    """A visit 9:00-10:30 with the arrival window 9:00-11:00 promised, booked on Friday."""
    with time_machine.travel(BOOKED, tick=False):
        return schedule(
            job,
            start=at(day, 9),
            end=at(day, 10, 30),
            technicians=technicians,
            actor=actor,
            arrival_window_start=at(day, 9),
            arrival_window_end=at(day, 11),
        )


def skipped(record) -> list[Event]:
    """The reasons on a record's timeline that a customer text was not sent."""
    return [event for event in timeline_for(record) if event.code == "crm.text.skipped"]


def texts(kind: str) -> list[Message]:
    return list(Message.objects.filter(template=f"appointment_{kind}"))


# --- One text per milestone ---------------------------------------------------------------------------


def test_scheduling_a_job_texts_the_customer_one_confirmation(job, tech, dispatcher, committed):
    with committed():
        book(job, technicians=[tech], actor=dispatcher)
    [text] = texts("confirmation")
    assert text.body == (
        "Hi Ana, you're booked with Test Plumbing Co on Tuesday, June 4, arriving between 9:00 AM and "
        "11:00 AM. Reply here with any questions."
    )
    assert (text.to_number, text.purpose, text.customer, text.status) == (PHONE, "care", job.customer, "sent")


def test_a_redelivered_confirmation_or_a_second_visit_sends_no_second_text(job, tech, dispatcher, committed):
    with committed():
        book(job, technicians=[tech], actor=dispatcher)
    delivery = Delivery.objects.get(subscriber="crm.appointment_confirmation")
    assert events.delivery_attempt(delivery_id=delivery.pk, force=True).attempts == 1
    with committed():
        book(job, technicians=[tech], actor=dispatcher, day=TUESDAY + timedelta(days=1))  # a second visit
    assert len(texts("confirmation")) == 1


def test_a_visit_moved_to_another_day_texts_the_new_day_and_is_reminded_again(
    job, tech, dispatcher, committed
):
    with committed():
        visit = book(job, technicians=[tech], actor=dispatcher)
    visit.reminder_sent_at = at(TUESDAY, 0)  # as if the reminder had gone out
    visit.save(update_fields=["reminder_sent_at"])
    thursday = TUESDAY + timedelta(days=2)
    with time_machine.travel(BOOKED, tick=False), committed():
        services.visit_move(visit=visit, start=at(thursday, 9), end=at(thursday, 10, 30), actor=dispatcher)

    visit.refresh_from_db()
    assert (visit.arrival_window_start, visit.arrival_window_end) == (at(thursday, 9), at(thursday, 11))
    assert visit.reminder_sent_at is None
    assert "Thursday, June 6, arriving between 9:00 AM and 11:00 AM" in texts("confirmation")[-1].body
    assert len(texts("confirmation")) == 2


def test_a_visit_moved_within_its_day_sends_nothing_new(job, tech, dispatcher, committed):
    with committed():
        visit = book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(BOOKED, tick=False), committed():
        services.visit_move(visit=visit, start=at(TUESDAY, 9, 30), end=at(TUESDAY, 11), actor=dispatcher)
    assert len(texts("confirmation")) == 1


def test_on_my_way_texts_the_technicians_first_name_and_arrival_time(job, tech, dispatcher, committed):
    book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False), committed():
        services.job_on_my_way(job=job, actor=tech)
    minutes = Event.objects.get(milestone="job.en_route").data["eta_minutes"]
    arrival = at(TUESDAY, 8, 30) + timedelta(minutes=minutes)
    [text] = texts("on_my_way")
    assert text.body == (
        f"Hi Ana, Marco from Test Plumbing Co is on the way and should arrive around "
        f"{arrival.hour}:{arrival.minute:02d} AM."
    )
    assert (text.to_number, text.purpose, text.status) == (PHONE, "care", "sent")


def test_a_technician_next_door_texts_arriving_any_minute_now(job, technician, dispatcher, committed):
    """A 0-minute drive: the arrival estimate is the departure itself, so it has passed by the time a
    worker delivers the milestone, a moment later. The rule for late deliveries must not drop it."""
    here = (job.property.latitude, job.property.longitude)
    marco = make_technician(user=technician, home=here)
    book(job, technicians=[marco], actor=dispatcher)
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False) as clock, committed():
        services.job_on_my_way(job=job, actor=marco)
        clock.shift(3)  # the worker runs three seconds later
    assert Event.objects.get(milestone="job.en_route").data["eta_minutes"] == 0
    [text] = texts("on_my_way")
    assert text.body.endswith("is on the way and should arrive any minute now.")
    assert text.status == "sent"


def test_an_on_my_way_delivered_hours_late_is_not_sent_and_the_job_says_why(job, tech, dispatcher, committed):
    book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False) as clock, committed():
        services.job_on_my_way(job=job, actor=tech)
        clock.shift(2 * 3600)  # a worker outage: delivered two hours later
    assert texts("on_my_way") == []
    assert Delivery.objects.get(subscriber="crm.on_my_way_text").status == "delivered"
    [note] = skipped(job)
    assert note.summary == (
        "The on-my-way text was not sent: it was processed 120 min after departure, past the arrival."
    )
    assert len(skipped(job.customer)) == 1


def test_work_entered_after_the_fact_texts_neither_on_my_way_nor_thanks(job, tech, dispatcher, committed):
    """The office records yesterday's visit today (or a backlog delivers hours late): no stale texts."""
    book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(at(TUESDAY + timedelta(days=2), 9), tick=False), committed():
        services.job_on_my_way(job=job, actor=tech, at=at(TUESDAY, 8, 30))
        services.job_arrive(job=job, actor=tech, at=at(TUESDAY, 9))
        services.job_complete(job=job, actor=tech, completion_note="Capacitor replaced.", at=at(TUESDAY, 10))
    assert texts("on_my_way") == [] and texts("completed") == []
    reasons = [e.summary for e in skipped(job)]
    assert len(reasons) == 2 and all("was not sent" in reason for reason in reasons)


def test_without_a_known_location_the_technician_arrives_soon(job, technician, dispatcher, committed):
    marco = make_technician(user=technician, home=None)
    book(job, technicians=[marco], actor=dispatcher)
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False), committed():
        services.job_on_my_way(job=job, actor=marco)
    [text] = texts("on_my_way")
    assert text.body.endswith("is on the way and should arrive soon.")


def test_completing_the_job_thanks_the_customer_once(job, tech, dispatcher, committed):
    book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.job_arrive(job=job, actor=tech)
        with committed():
            services.job_complete(job=job, actor=tech, completion_note="Replaced the capacitor")
            services.job_complete(job=job, actor=tech, completion_note="Replaced the capacitor")
    [text] = texts("completed")
    assert text.body == (
        f"Thanks for choosing Test Plumbing Co, Ana! Your job {job.number} is done. "
        "Questions about the work? Just reply to this text."
    )
    assert text.purpose == "care"


def test_a_switched_off_text_is_not_sent(job, tech, dispatcher, committed):
    rules = MessagingSettings.current()
    for kind in ("confirmation", "reminder", "on_my_way", "completed"):
        setattr(rules, f"{kind}_text_enabled", False)
    rules.save()
    with committed():
        book(job, technicians=[tech], actor=dispatcher)
    with time_machine.travel(MONDAY_NIGHT, tick=False), committed():
        assert visit_reminders_publish() == 1
    with time_machine.travel(at(TUESDAY, 8, 30), tick=False), committed():
        services.job_on_my_way(job=job, actor=tech)
        services.job_arrive(job=job, actor=tech)
        services.job_complete(job=job, actor=tech, completion_note="Done")
    assert not Message.objects.exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_opted_out_number_gets_a_suppressed_row_not_a_text(job, tech, dispatcher, committed):
    consent_record(number=PHONE, state="opted_out", method="keyword")
    with committed():
        book(job, technicians=[tech], actor=dispatcher)
    [text] = texts("confirmation")
    assert text.status == "suppressed" and text.provider_sid is None and text.sent_at is None


def test_a_customer_without_a_textable_number_gets_nothing(office, business, tech, dispatcher, committed):
    job = make_job(actor=office, customer=make_customer(actor=office, phones=[]))
    with committed():
        book(job, technicians=[tech], actor=dispatcher)
    assert Delivery.objects.get(subscriber="crm.appointment_confirmation").status == "delivered"
    assert not Message.objects.exists()
    [note] = skipped(job)
    assert note.summary == "The confirmation text was not sent: the customer has no number that takes texts."


# --- The day-before reminder -------------------------------------------------------------------------------


def test_the_reminder_task_publishes_once_per_visit_even_when_run_twice(office, job, committed):
    visit = book(job)
    canceled_visit = book(make_job(actor=office))
    services.visit_cancel(visit=canceled_visit, actor=office)
    canceled_job = make_job(actor=office)
    book(canceled_job)
    services.job_cancel(job=canceled_job, actor=office, reason="Customer fixed it")
    book(make_job(actor=office), day=TUESDAY + timedelta(days=1))  # the day after tomorrow: not yet
    with time_machine.travel(MONDAY_NIGHT, tick=False), committed():
        assert visit_reminders.delay().get() == 1
        assert visit_reminders.delay().get() == 0
    [event] = Event.objects.filter(milestone="visit.reminder_due")
    assert event.data["visit_id"] == visit.pk and event.data["phone"] == PHONE
    visit.refresh_from_db()
    assert visit.reminder_sent_at == datetime(2030, 6, 3, 5, 10, tzinfo=UTC)
    assert len(texts("reminder")) == 1


def test_a_visit_booked_today_for_tomorrow_gets_its_confirmation_and_no_reminder(job):
    with time_machine.travel("2030-06-03 15:00 -05:00", tick=False):
        schedule(job, start=at(TUESDAY, 9), technicians=[])
        assert visit_reminders_publish() == 0


def test_the_reminder_is_held_by_quiet_hours_until_the_morning(job, committed):
    book(job)
    with time_machine.travel(MONDAY_NIGHT, tick=False), committed():
        visit_reminders_publish()
    [text] = texts("reminder")
    assert text.purpose == "automated" and text.status == "held"
    # Austin, TX: automated texts from 9:00 (Monday 9:00 CDT = 14:00 UTC).
    assert text.not_before == datetime(2030, 6, 3, 14, 0, tzinfo=UTC) and text.hold_rule.startswith("TX")
    assert text.body == (
        "Hi Ana, a reminder from Test Plumbing Co: we'll see you tomorrow, Tuesday, June 4, arriving "
        "between 9:00 AM and 11:00 AM. Need to change it? Just reply. Reply STOP to opt out."
    )
    with time_machine.travel("2030-06-03 09:01 -05:00", tick=False):
        assert messaging.message_release_held() == 1
    assert Message.objects.get(pk=text.pk).status == "queued"


# --- The owner's settings ------------------------------------------------------------------------------


def settings_post(**changes) -> dict:
    """The Phones & texts form as the page posts it, with `changes`."""
    form = MessagingSettingsForm(instance=MessagingSettings.current())
    data = {field.name: field.value() for field in form} | changes
    return {
        name: "on" if value is True else value for name, value in data.items() if value not in (None, False)
    }


def test_an_unknown_merge_field_is_named_in_the_error(business):
    data = settings_post(
        on_my_way_template="{technician} arrives {when} for {customer}", confirmation_template="{eta}"
    )
    form = MessagingSettingsForm(data, instance=MessagingSettings.current())
    assert not form.is_valid()
    assert form.errors["on_my_way_template"] == ["Unknown merge fields: {customer}, {when}."]
    assert form.errors["confirmation_template"] == ["Unknown merge field: {eta}."]


def test_a_text_that_is_switched_on_cannot_be_empty(business):
    form = MessagingSettingsForm(settings_post(reminder_template="  "), instance=MessagingSettings.current())
    assert form.errors["reminder_template"] == ["Write the text, or switch it off."]
    off = settings_post(reminder_template="", reminder_text_enabled=False)
    assert MessagingSettingsForm(off, instance=MessagingSettings.current()).is_valid()


def test_the_owner_edits_the_appointment_texts_on_the_phones_and_texts_page(owner, client_for, business):
    client = client_for(owner)
    page = client.get(reverse("crm:messaging-settings")).content.decode()
    assert "<fieldset data-sms-counter><legend>Appointment texts</legend>" in page
    assert "{technician}, {eta}, {job_number}" in page
    data = settings_post(completed_template="Thanks, {first_name}! Job {job_number} is done.")
    data.pop("completed_text_enabled")
    assert client.post(reverse("crm:messaging-settings"), data).status_code == 302
    rules = MessagingSettings.current()
    assert rules.completed_template == "Thanks, {first_name}! Job {job_number} is done."
    assert not rules.completed_text_enabled and rules.confirmation_text_enabled
    bad = client.post(reverse("crm:messaging-settings"), {**data, "reminder_template": "See you {tomorow}"})
    assert "Unknown merge field: {tomorow}." in bad.content.decode()

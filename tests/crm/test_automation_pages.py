"""The automations pages: who may open and change them, refusals shown on the form with nothing written,
the customer page's card, the lead page's enroll form, tasks and the owner's message limits."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.automations import engine
from crm.automations.models import AutomationSettings, Enrollment, Sequence, Step, Task
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(business):
    sequence = Sequence.objects.create(name="Estimate follow-up", trigger=Sequence.Trigger.MANUAL)
    engine.step_save(sequence=sequence, kind=Step.Kind.WAIT, wait_days=1)
    engine.step_save(sequence=sequence, kind=Step.Kind.SMS, body="Hi {first_name}, any questions?")
    return sequence


@pytest.fixture
def live(sequence):
    return engine.sequence_activate(sequence=sequence)


@pytest.fixture
def customer(office):
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz")


# --- Who may do what ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("office", 200), ("technician", 403)])
def test_the_sequence_pages_are_for_the_owner_and_office(role, status, personas, client_for, sequence):
    client = client_for(personas[role])
    for url in (
        reverse("automations:list"),
        reverse("automations:detail", args=[sequence.pk]),
        reverse("automations:enrollments", args=[sequence.pk]),
        reverse("tasks"),
    ):
        assert client.get(url).status_code == status, url


def test_office_reads_a_sequence_but_cannot_change_it(office, client_for, sequence):
    client = client_for(office)
    page = client.get(reverse("automations:detail", args=[sequence.pk])).content.decode()
    assert "Hi {first_name}, any questions?" in page and "Add a step" not in page
    response = client.post(
        reverse("automations:edit", args=[sequence.pk]), {"name": "Mine", "trigger": "manual"}
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("automations:switch", args=[sequence.pk]), {"action": "activate"}).status_code
        == 403
    )
    assert client.get(reverse("automation-settings")).status_code == 403
    sequence.refresh_from_db()
    assert sequence.name == "Estimate follow-up" and not sequence.active


def test_a_technician_cannot_enroll_or_complete_tasks(technician, client_for, live, customer):
    client = client_for(technician)
    response = client.post(reverse("automations:enroll", args=[customer.pk]), {"sequence": live.pk})
    assert response.status_code == 403 and not Enrollment.objects.exists()
    assert client.get(reverse("automations:customer", args=[customer.pk])).status_code == 403


# --- Sequences and steps --------------------------------------------------------------------------------


def test_the_owner_creates_a_sequence_paused_with_no_steps(owner, client_for, business):
    response = client_for(owner).post(
        reverse("automations:create"), {"name": "Rebook", "trigger": "job.canceled", "stop_on_booking": "on"}
    )
    sequence = Sequence.objects.get(name="Rebook")
    assert response.status_code == 302 and response["Location"] == reverse(
        "automations:detail", args=[sequence.pk]
    )
    assert not sequence.active and sequence.stop_on_booking and sequence.trigger == "job.canceled"


def test_a_sequence_without_a_name_shows_the_error_and_writes_nothing(owner, client_for, business):
    response = client_for(owner).post(reverse("automations:create"), {"name": "", "trigger": "manual"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"] and not Sequence.objects.exists()


def test_a_text_with_an_unknown_merge_field_names_the_field_and_adds_nothing(owner, client_for, sequence):
    response = client_for(owner).post(
        reverse("automations:step-add", args=[sequence.pk]),
        {"kind": "sms", "new-body": "Hi {firstname}, still there?"},
    )
    assert response.status_code == 400
    errors = response.context["add_form"].errors["body"]
    assert "Unknown merge field {firstname}" in errors[0]
    assert "{firstname}" in response.content.decode()
    assert sequence.steps.count() == 2


def test_editing_a_step_with_an_unknown_merge_field_keeps_the_old_text(owner, client_for, sequence):
    text = sequence.steps.get(kind="sms")
    response = client_for(owner).post(
        reverse("automations:step-edit", args=[sequence.pk, text.pk]),
        {f"step{text.pk}-body": "Hi {nickname}"},
    )
    assert response.status_code == 400
    assert "{nickname}" in response.context["rows"][1]["form"].errors["body"][0]
    text.refresh_from_db()
    assert text.body == "Hi {first_name}, any questions?"


def test_a_wait_of_nothing_is_refused_on_its_field(owner, client_for, sequence):
    response = client_for(owner).post(
        reverse("automations:step-add", args=[sequence.pk]), {"kind": "wait", "new-wait_days": ""}
    )
    assert response.status_code == 400
    assert response.context["add_form"].errors["wait_days"] == ["Say how long to wait."]
    assert sequence.steps.count() == 2


def test_the_owner_adds_moves_and_removes_steps(owner, client_for, sequence):
    client = client_for(owner)
    client.post(
        reverse("automations:step-add", args=[sequence.pk]),
        {"kind": "task", "new-task_title": "Call {first_name}", "new-task_due_hours": "4"},
    )
    task = sequence.steps.get(kind="task")
    assert task.position == 2
    client.post(reverse("automations:step-move", args=[sequence.pk, task.pk]), {"action": "up"})
    assert list(sequence.steps.values_list("kind", flat=True)) == ["wait", "task", "sms"]
    client.post(reverse("automations:step-move", args=[sequence.pk, task.pk]), {"action": "remove"})
    assert list(sequence.steps.values_list("kind", "position")) == [("wait", 0), ("sms", 1)]


def test_removing_a_step_keeps_each_customer_s_place(owner, client_for, live):
    """wait, sms, task, sms: one customer past the first text, one about to get the task."""
    engine.step_save(sequence=live, kind=Step.Kind.TASK, task_title="Call {first_name}")
    engine.step_save(sequence=live, kind=Step.Kind.SMS, body="Last one, {first_name}.")
    past_text = engine.enroll(sequence=live, customer=make_customer(), origin="by hand")
    at_task = engine.enroll(sequence=live, customer=make_customer(), origin="by hand")
    Enrollment.objects.filter(pk=past_text.pk).update(position=3)
    Enrollment.objects.filter(pk=at_task.pk).update(position=2)
    task = live.steps.get(kind="task")
    client_for(owner).post(reverse("automations:step-move", args=[live.pk, task.pk]), {"action": "remove"})
    steps = list(live.steps.order_by("position").values_list("body", flat=True))
    past_text.refresh_from_db()
    at_task.refresh_from_db()
    assert steps[past_text.position] == "Last one, {first_name}."
    assert steps[at_task.position] == "Last one, {first_name}.", "the removed task's place goes to the next"


def test_a_step_cannot_swap_with_the_next_while_a_customer_is_between_them(owner, client_for, live):
    enrollment = engine.enroll(sequence=live, customer=make_customer(), origin="by hand")
    Enrollment.objects.filter(pk=enrollment.pk).update(position=1)  # waited, the text is next
    text = live.steps.get(kind="sms")
    client = client_for(owner)
    response = client.post(
        reverse("automations:step-move", args=[live.pk, text.pk]), {"action": "up"}, follow=True
    )
    assert "1 customer is between these two steps" in response.content.decode()
    assert list(live.steps.values_list("kind", flat=True)) == ["wait", "sms"]
    Enrollment.objects.filter(pk=enrollment.pk).update(position=2)  # past both: free to move
    client.post(reverse("automations:step-move", args=[live.pk, text.pk]), {"action": "up"})
    assert list(live.steps.values_list("kind", flat=True)) == ["sms", "wait"]


def test_a_sequence_with_no_message_cannot_be_switched_on(owner, client_for, business):
    sequence = Sequence.objects.create(name="Empty")
    response = client_for(owner).post(
        reverse("automations:switch", args=[sequence.pk]), {"action": "activate"}
    )
    assert response.status_code == 400
    assert "Add a text, an e-mail or a task" in response.content.decode()
    sequence.refresh_from_db()
    assert not sequence.active


def test_the_owner_switches_a_sequence_on_and_pauses_it(owner, client_for, sequence):
    client = client_for(owner)
    client.post(reverse("automations:switch", args=[sequence.pk]), {"action": "activate"})
    sequence.refresh_from_db()
    assert sequence.active
    client.post(reverse("automations:switch", args=[sequence.pk]), {"action": "pause"})
    sequence.refresh_from_db()
    assert not sequence.active


def test_the_preview_renders_each_message_for_a_real_customer(owner, client_for, sequence, customer):
    url = reverse("automations:detail", args=[sequence.pk])
    response = client_for(owner).get(
        url, {"customer": customer.pk}, headers={"HX-Request": "true", "HX-Target": "preview-result"}
    )
    page = response.content.decode()
    assert "Hi Ana, any questions?" in page and "<html" not in page


def test_the_preview_finds_customers_by_name(owner, client_for, sequence, customer, office):
    make_customer(actor=office, first_name="Zed", last_name="Other")
    response = client_for(owner).get(reverse("automations:detail", args=[sequence.pk]), {"q": "ruiz"})
    assert [c.pk for c in response.context["customers"]] == [customer.pk]


# --- Enrolling and stopping -----------------------------------------------------------------------------


def test_office_enrolls_a_customer_from_the_card_and_sees_the_timeline(office, client_for, live, customer):
    client = client_for(office)
    response = client.post(
        reverse("automations:enroll", args=[customer.pk]),
        {"sequence": live.pk},
        headers={"HX-Request": "true"},
    )
    enrollment = Enrollment.objects.get(customer=customer, sequence=live)
    assert enrollment.origin.startswith("by hand") and enrollment.enrolled_by == office
    page = response.content.decode()
    assert "Estimate follow-up" in page and "Enrolled" in page and "Stop" in page


def test_enrolling_in_a_paused_sequence_says_so(office, client_for, sequence, customer):
    response = client_for(office).post(
        reverse("automations:enroll", args=[customer.pk]),
        {"sequence": sequence.pk},
        headers={"HX-Request": "true"},
    )
    assert "is switched off" in response.content.decode() and not Enrollment.objects.exists()


def test_stopping_an_enrollment_logs_who_stopped_it(office, client_for, live, customer):
    enrollment = engine.enroll(sequence=live, customer=customer, origin="by hand")
    client_for(office).post(reverse("automations:stop", args=[enrollment.pk]))
    enrollment.refresh_from_db()
    assert enrollment.state == "stopped" and enrollment.stop_reason.startswith("Stopped by")


def test_the_enrollments_page_shows_why_one_stopped(owner, client_for, live, customer):
    enrollment = engine.enroll(sequence=live, customer=customer, origin="by hand")
    engine.stop(enrollment=enrollment, reason="The customer replied")
    page = client_for(owner).get(reverse("automations:enrollments", args=[live.pk]), {"state": "stopped"})
    assert "The customer replied" in page.content.decode()


def test_the_lead_page_enrolls_about_the_lead(office, client_for, live, business):
    from crm.models import Source
    from crm.services import LeadIn, lead_capture

    source = Source.objects.create(name="Phone", slug="phone", kind=Source.Kind.MANUAL)
    lead = lead_capture(
        source=source, contact=LeadIn(name="Ana Ruiz", phone="(512) 555-0142"), actor=office
    ).lead
    client = client_for(office)
    assert "Enroll" in client.get(reverse("crm:detail", args=[lead.pk])).content.decode()
    response = client.post(
        reverse("automations:enroll", args=[lead.customer_id]), {"sequence": live.pk, "lead": lead.pk}
    )
    assert response["Location"] == reverse("crm:detail", args=[lead.pk])
    enrollment = Enrollment.objects.get(sequence=live)
    assert enrollment.lead == lead and enrollment.subject_key == f"lead:{lead.pk}"


# --- Tasks ----------------------------------------------------------------------------------------------


def test_tasks_mine_overdue_and_done(office, owner, client_for, customer):
    now = timezone.now()
    late = Task.objects.create(title="Call Ana", customer=customer, due_at=now - timedelta(hours=1))
    Task.objects.create(title="Owner's own", assignee=owner, due_at=now + timedelta(hours=2))
    client = client_for(office)
    titles = lambda tab: [t.title for t in client.get(reverse("tasks"), {"tab": tab}).context["tasks"]]  # noqa: E731
    assert titles("mine") == ["Call Ana"] and titles("overdue") == ["Call Ana"]
    client.post(reverse("task-done", args=[late.pk]), {"tab": "mine"})
    late.refresh_from_db()
    assert late.done_by == office and titles("mine") == [] and titles("done") == ["Call Ana"]
    assert (
        client.get(reverse("tasks"), {"tab": "all"}).context["tab"] == "mine"
    )  # everyone's: the owner's tab
    owner_titles = [t.title for t in client_for(owner).get(reverse("tasks"), {"tab": "all"}).context["tasks"]]
    assert owner_titles == ["Owner's own"]


def test_the_navigation_count_is_the_open_tasks(office, client_for, customer):
    Task.objects.create(title="Call Ana", customer=customer, due_at=timezone.now())
    assert ">1<" in client_for(office).get(reverse("task-count")).content.decode()


# --- Message limits -------------------------------------------------------------------------------------


def test_the_owner_sets_the_message_limits(owner, client_for, business):
    response = client_for(owner).post(
        reverse("automation-settings"), {"max_per_day": "1", "max_per_week": "3"}
    )
    assert response.status_code == 302
    rules = AutomationSettings.current()
    assert (rules.max_per_day, rules.max_per_week) == (1, 3)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_per_day": "0", "max_per_week": "3"}, "max_per_day"),
        ({"max_per_day": "two", "max_per_week": "3"}, "max_per_day"),
        ({"max_per_day": "2", "max_per_week": "-1"}, "max_per_week"),
        ({"max_per_day": "5", "max_per_week": "3"}, "max_per_day"),
    ],
)
def test_bad_limits_show_the_error_and_change_nothing(owner, client_for, business, data, field):
    response = client_for(owner).post(reverse("automation-settings"), data)
    assert response.status_code == 400 and response.context["form"].errors[field]
    rules = AutomationSettings.current()
    assert (rules.max_per_day, rules.max_per_week) == (2, 4)


def test_enrolling_and_stopping_by_hand_are_on_the_customers_timeline_once(
    office, client_for, live, customer
):
    from events.selectors import timeline_for

    client = client_for(office)
    for _ in range(2):  # a second click finds the enrollment under way: enrolled once, logged once
        client.post(reverse("automations:enroll", args=[customer.pk]), {"sequence": live.pk})
    enrollment = Enrollment.objects.get(customer=customer)
    for _ in range(2):
        client.post(reverse("automations:stop", args=[enrollment.pk]))
    codes = [event.code for event in timeline_for(customer) if event.code.startswith("crm.enrollment")]
    assert sorted(codes) == ["crm.enrollment.started", "crm.enrollment.stopped"]


def test_the_customer_card_reads_in_constant_queries(office, client_for, live, customer):
    client = client_for(office)
    url = reverse("automations:customer", args=[customer.pk])
    engine.enroll(sequence=live, customer=customer, origin="by hand")
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(3):
        other = Sequence.objects.create(name=f"Other {n}")
        engine.step_save(sequence=other, kind=Step.Kind.SMS, body="Hi")
        engine.enroll(sequence=engine.sequence_activate(sequence=other), customer=customer, origin="by hand")
    with CaptureQueriesContext(connection) as four:
        client.get(url)
    assert len(four.captured_queries) == len(one.captured_queries)


def test_a_sequence_needing_an_estimate_is_neither_offered_nor_started_by_hand(office, client_for, customer):
    sequence = Sequence.objects.create(name="Estimate chaser")
    engine.step_save(sequence=sequence, kind=Step.Kind.SMS, body="Approve here: {estimate_link}")
    engine.sequence_activate(sequence=sequence)
    client = client_for(office)
    card = client.get(reverse("automations:customer", args=[customer.pk])).content.decode()
    assert "Estimate chaser" not in card
    response = client.post(
        reverse("automations:enroll", args=[customer.pk]),
        {"sequence": sequence.pk},
        headers={"HX-Request": "true"},
    )
    assert "{estimate_link}" in response.content.decode() and not Enrollment.objects.exists()

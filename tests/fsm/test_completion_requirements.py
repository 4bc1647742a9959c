"""What completing a job requires, per job type (the owner's choice): the technician is told what is
missing and cannot complete without it; the office can, with a reason that goes on the timeline."""

import pytest
from django.urls import reverse

from common.errors import ApplicationError
from events.models import Event
from fsm import services
from fsm.models import Job, JobSignature
from fsm.services._base import Forbidden
from tests.fsm.test_tech_views import png_upload, signature_data_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(ac_repair, owner):
    """AC repair (a three-item checklist) now requires the checklist, a signature and a photo."""
    return services.job_type_requirements_set(
        actor=owner, job_type=ac_repair, checklist=True, signature=True, photo=True
    )


@pytest.fixture
def arrived(job, visit, tech):
    return services.job_arrive(job=job, actor=tech)


def test_the_technician_is_told_what_is_missing_and_cannot_complete(strict, arrived, tech, client_for):
    client = client_for(tech)
    page = client.get(reverse("tech-job", args=[arrived.pk])).content.decode()
    assert "Before you complete, add:" in page
    assert f"Every checklist item (0 of {len(strict.checklist)} ticked)" in page
    assert "The customer&#x27;s signature" in page and "A photo" in page

    response = client.post(reverse("tech-job-complete", args=[arrived.pk]), {"completion_note": "Fixed it"})

    assert response.status_code == 400
    assert (
        f"Before completing, add every checklist item (0 of {len(strict.checklist)} ticked), the "
        "customer&#x27;s signature and a photo." in response.content.decode()
    )
    arrived.refresh_from_db()
    assert arrived.state == Job.State.ON_SITE


def test_once_everything_is_there_the_technician_completes(strict, arrived, tech, client_for):
    client = client_for(tech)
    for item in strict.checklist:
        client.post(reverse("tech-job-checklist", args=[arrived.pk]), {"item": item, "done": "on"})
    client.post(reverse("tech-job-photo", args=[arrived.pk]), {"image": png_upload(), "caption": "After"})
    client.post(
        reverse("tech-job-signature", args=[arrived.pk]),
        {"data_url": signature_data_url(), "signer_name": "Ana Ruiz"},
    )
    assert JobSignature.objects.filter(job=arrived).exists()

    client.post(reverse("tech-job-complete", args=[arrived.pk]), {"completion_note": "Capacitor replaced"})

    arrived.refresh_from_db()
    assert arrived.state == Job.State.COMPLETED


def test_a_technician_cannot_waive_the_requirements(strict, arrived, tech):
    with pytest.raises(Forbidden):
        services.job_complete(job=arrived, actor=tech, completion_note="Done", override_reason="In a hurry")


def test_the_office_completes_without_them_and_the_reason_is_on_the_timeline(
    strict, arrived, office, client_for
):
    client = client_for(office)
    page = client.get(reverse("job-detail", args=[arrived.pk])).content.decode()
    assert "Still missing: every checklist item" in page and "Complete without it, because" in page

    client.post(
        reverse("job-act", args=[arrived.pk]),
        {"action": "complete", "completion_note": "Done", "override_reason": "Customer left before signing"},
    )

    arrived.refresh_from_db()
    assert arrived.state == Job.State.COMPLETED
    waived = Event.objects.get(code="fsm.job.requirements_waived")
    assert waived.summary.startswith("Completed without every checklist item (0 of")
    assert waived.summary.endswith("the customer's signature and a photo: Customer left before signing")
    assert waived.data["reason"] == "Customer left before signing"


def test_without_a_reason_the_office_is_refused_too(strict, arrived, office):
    with pytest.raises(ApplicationError) as refused:
        services.job_complete(job=arrived, actor=office, completion_note="Done")
    assert refused.value.field == "requirements"


def test_a_job_type_without_requirements_completes_as_before(arrived, tech):
    assert services.job_complete(job=arrived, actor=tech, completion_note="Done").state == Job.State.COMPLETED


def test_only_the_owner_sets_them_on_the_job_types_page(ac_repair, owner, office, client_for):
    assert client_for(office).get(reverse("job-types")).status_code == 403
    client = client_for(owner)
    assert "Checklist done" in client.get(reverse("job-types")).content.decode()

    client.post(reverse("job-types"), {"job_type": ac_repair.pk, "requires_signature": "on"})

    ac_repair.refresh_from_db()
    assert (ac_repair.requires_checklist, ac_repair.requires_signature, ac_repair.requires_photo) == (
        False,
        True,
        False,
    )
    assert (
        Event.objects.filter(code="fsm.job_type.requirements_set", subject_id=str(ac_repair.pk)).count() == 1
    )


def test_requiring_a_checklist_a_job_type_does_not_have_is_refused(owner, office):
    from fsm.models import JobType

    plain = JobType.objects.create(name="Estimate visit")
    with pytest.raises(ApplicationError):
        services.job_type_requirements_set(
            actor=owner, job_type=plain, checklist=True, signature=False, photo=False
        )

import pytest
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from common.errors import ApplicationError
from customers import services
from customers.models import Customer, PhoneNumber, Property
from events.models import Event, EventLink
from events.selectors import timeline_for
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_merge_moves_properties_phones_emails_and_timeline_to_the_survivor(office):
    survivor = make_customer(actor=office, first_name="Robert", last_name="Smith", phones=["5125550142"])
    duplicate = make_customer(
        actor=office, first_name="Bob", last_name="Smith", phones=["7375550100"], emails=["bob@example.com"]
    )
    dup_property = duplicate.properties.get()

    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)

    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor and duplicate.merged_at
    assert Property.objects.get(pk=dup_property.pk).customer == survivor
    assert sorted(p.number.as_e164 for p in survivor.phones.all()) == ["+15125550142", "+17375550100"]
    assert list(survivor.emails.values_list("email", flat=True)) == ["bob@example.com"]
    assert survivor.phones.filter(is_primary=True).count() == 1
    codes = [e.code for e in timeline_for(survivor)]
    assert codes.count("customers.customer.created") == 2
    assert codes[0] == "customers.customer.merged"
    assert "7375550100" in Customer.objects.get(pk=survivor.pk).search_digits


def test_merge_publishes_customer_merged_naming_both(office):
    survivor, duplicate = make_customer(actor=office), make_customer(actor=office)
    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)
    event = Event.objects.get(milestone="customer.merged")
    assert event.data["survivor_id"] == survivor.pk and event.data["duplicate_id"] == duplicate.pk
    assert event.code == "customers.customer.merged"


def test_a_number_both_customers_have_is_kept_once_with_the_latest_consent(office):
    from django.utils import timezone

    survivor = make_customer(actor=office, phones=["5125550142"])
    duplicate = make_customer(actor=office, phones=["512-555-0142"])
    duplicate.phones.update(sms_consent="opted_out", consent_changed_at=timezone.now(), consent_method="STOP")

    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)

    phone = PhoneNumber.objects.get(number="+15125550142")
    assert phone.customer == survivor and phone.sms_consent == "opted_out"


def test_merging_a_customer_into_itself_is_refused(office):
    customer = make_customer(actor=office)
    with pytest.raises(ApplicationError, match="itself"):
        services.customer_merge(survivor=customer, duplicate=customer, actor=office)
    assert not Event.objects.filter(milestone="customer.merged").exists()


def test_merging_an_already_merged_customer_is_refused_and_changes_nothing(office):
    a, b, c = (make_customer(actor=office) for _ in range(3))
    services.customer_merge(survivor=a, duplicate=b, actor=office)
    with pytest.raises(ApplicationError, match="already merged"):
        services.customer_merge(survivor=c, duplicate=b, actor=office)
    with pytest.raises(ApplicationError, match="merged away"):
        services.customer_merge(survivor=b, duplicate=c, actor=office)
    assert Customer.objects.get(pk=b.pk).merged_into_id == a.pk
    assert Customer.objects.get(pk=c.pk).merged_into_id is None
    assert c.properties.count() == 1


def test_customers_merged_earlier_into_the_duplicate_now_point_at_the_survivor(office):
    a, b, c = (make_customer(actor=office) for _ in range(3))
    services.customer_merge(survivor=b, duplicate=c, actor=office)
    services.customer_merge(survivor=a, duplicate=b, actor=office)
    assert Customer.objects.get(pk=c.pk).merged_into_id == a.pk


@pytest.fixture
def later_app_models(db):
    """Models a later issue might add: a foreign key to Customer and a generic relation to it.

    They are declared here, tables created for the test, and removed afterwards: the merge code never
    heard of them, which is the point.
    """

    class ProbeJob(models.Model):
        customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
        title = models.CharField(max_length=50)

        class Meta:
            app_label = "customers"

    class ProbeNote(models.Model):
        target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
        target_id = models.PositiveBigIntegerField()
        target = GenericForeignKey("target_type", "target_id")
        text = models.CharField(max_length=50)

        class Meta:
            app_label = "customers"

    with connection.schema_editor(atomic=False) as editor:
        editor.create_model(ProbeJob)
        editor.create_model(ProbeNote)
    yield ProbeJob, ProbeNote
    with connection.schema_editor(atomic=False) as editor:
        editor.delete_model(ProbeNote)
        editor.delete_model(ProbeJob)
    for model in (ProbeJob, ProbeNote):
        del apps.all_models["customers"][model._meta.model_name]
    apps.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_records_of_apps_added_later_follow_the_merge_without_changing_it(later_app_models, office):
    ProbeJob, ProbeNote = later_app_models
    survivor, duplicate = make_customer(actor=office), make_customer(actor=office)
    job = ProbeJob.objects.create(customer=duplicate, title="Water heater")
    note = ProbeNote.objects.create(target=duplicate, text="Prefers mornings")

    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)

    assert ProbeJob.objects.get(pk=job.pk).customer_id == survivor.pk
    assert ProbeNote.objects.get(pk=note.pk).target_id == survivor.pk
    event = Event.objects.get(milestone="customer.merged")
    assert event.data["moved"]["customers.ProbeJob"] == 1
    assert event.data["moved"]["customers.ProbeNote"] == 1


def test_event_subjects_are_never_rewritten_but_links_move(office):
    survivor, duplicate = make_customer(actor=office), make_customer(actor=office)
    created = Event.objects.get(code="customers.customer.created", subject_id=str(duplicate.pk))
    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)
    created.refresh_from_db()
    assert created.subject_id == str(duplicate.pk)
    ct = ContentType.objects.get_for_model(Customer)
    assert EventLink.objects.filter(event=created, target_type=ct, target_id=str(survivor.pk)).exists()

"""Customer tags: one per name whatever the case, set on the customer page or by the API, a filter on the
customer list and the API, carried over by a merge, and a segment filter for campaigns."""

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from common.errors import ApplicationError
from crm.segments import services as segments
from crm.segments.services import SegmentSpec
from customers import services
from customers.models import Tag
from customers.selectors import tag_names
from events.models import Event
from tests.factories import make_customer, unique_phone

pytestmark = pytest.mark.django_db


def _names(customer) -> list[str]:
    return sorted(tag.name for tag in customer.tags.all())


def test_tags_are_one_per_name_whatever_the_case_and_the_change_is_on_the_timeline(office):
    ana = make_customer(actor=office, first_name="Ana")
    services.customer_tags_set(customer=ana, names="member,  Pets   on site , MEMBER", actor=office)
    assert _names(ana) == ["Pets on site", "member"]
    bo = make_customer(actor=office, first_name="Bo")
    services.customer_tags_set(customer=bo, names=["Member", "VIP"], actor=office)
    assert _names(bo) == ["VIP", "member"], "the existing tag keeps its first spelling"
    assert Tag.objects.count() == 3
    services.customer_tags_set(customer=ana, names="Pets on site, VIP", actor=office)
    event = Event.objects.filter(code="customers.customer.tagged", subject_id=str(ana.pk)).latest("pk")
    assert event.data == {"added": ["VIP"], "removed": ["member"]} and event.actor == office
    services.customer_tags_set(customer=ana, names="VIP, pets on site", actor=office)  # no change
    assert Event.objects.filter(code="customers.customer.tagged", subject_id=str(ana.pk)).count() == 2


def test_the_database_refuses_a_second_tag_spelled_differently(business):
    Tag.objects.create(name="Member")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="MEMBER")


@pytest.mark.parametrize(
    ("names", "error"),
    [("x" * 41, "under 40 characters"), (",".join(f"t{i}" for i in range(21)), "At most 20 tags")],
)
def test_a_too_long_tag_or_too_many_are_refused_and_nothing_changes(office, names, error):
    ana = make_customer(actor=office)
    services.customer_tags_set(customer=ana, names="Member", actor=office)
    with pytest.raises(ApplicationError, match=error):
        services.customer_tags_set(customer=ana, names=names, actor=office)
    assert _names(ana) == ["Member"] and Tag.objects.count() == 1


def test_a_merge_keeps_the_tags_of_both_once(office):
    survivor = make_customer(actor=office, first_name="Robert")
    duplicate = make_customer(actor=office, first_name="Bob")
    services.customer_tags_set(customer=survivor, names="Member, VIP", actor=office)
    services.customer_tags_set(customer=duplicate, names="VIP, Landlord", actor=office)
    services.customer_merge(survivor=survivor, duplicate=duplicate, actor=office)
    assert _names(survivor) == ["Landlord", "Member", "VIP"]
    with pytest.raises(ApplicationError, match="merged"):
        services.customer_tags_set(customer=duplicate, names="X", actor=office)


def test_office_tags_a_customer_on_the_page_and_filters_the_list_by_tag(office, client_for):
    ana = make_customer(actor=office, first_name="Ana", last_name="Ruiz")
    make_customer(actor=office, first_name="Bo", last_name="Lee")
    client = client_for(office)
    page = client.get(f"/customers/{ana.pk}/").content.decode()
    assert 'data-testid="customer-tags"' in page and "Add tags" in page
    swapped = client.post(f"/customers/{ana.pk}/tags/", {"tags": "Member, Landlord"}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and swapped.content.decode().lstrip().startswith(
        '<div class="customer-tags"'
    )
    assert _names(ana) == ["Landlord", "Member"]
    listing = client.get("/customers/", {"tag": "member"})
    assert [c.pk for c in listing.context["page"].object_list] == [ana.pk]
    assert "No customer is tagged Nobody" in client.get("/customers/", {"tag": "Nobody"}).content.decode()


def test_a_bad_tag_shows_the_error_in_the_editor_and_keeps_what_was_typed(office, client_for):
    ana = make_customer(actor=office)
    response = client_for(office).post(
        f"/customers/{ana.pk}/tags/", {"tags": "y" * 50}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200, "swapped in by htmx"
    assert "under 40 characters" in body and "y" * 50 in body
    assert _names(ana) == []


@pytest.mark.parametrize("role", ["technician", "dispatcher"])
def test_only_the_office_and_owner_tag_customers(role, personas, client_for, office):
    ana = make_customer(actor=office)
    response = client_for(personas[role]).post(f"/customers/{ana.pk}/tags/", {"tags": "VIP"})
    assert response.status_code in (403, 404) and _names(ana) == []


def test_the_api_reads_writes_and_filters_tags(office):
    api = APIClient()
    api.force_authenticate(office)
    made = api.post(
        "/api/v1/customers/",
        {"first_name": "Ana", "phones": [{"number": unique_phone()}], "tags": ["Member", "member", "VIP"]},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert sorted(made.json()["tags"]) == ["Member", "VIP"]
    pk = made.json()["id"]
    changed = api.patch(f"/api/v1/customers/{pk}/", {"tags": ["Landlord"]}, format="json")
    assert changed.status_code == 200 and changed.json()["tags"] == ["Landlord"]
    assert [row["id"] for row in api.get("/api/v1/customers/", {"tag": "landlord"}).json()["results"]] == [pk]
    bad = api.patch(f"/api/v1/customers/{pk}/", {"tags": ["z" * 60]}, format="json")
    assert bad.status_code == 400 and "tags" in bad.json()
    assert api.get(f"/api/v1/customers/{pk}/").json()["tags"] == ["Landlord"]


def test_a_segment_of_customers_tagged_with_any_of_the_chosen_tags(office):
    member = make_customer(actor=office, phones=[unique_phone()])
    vip = make_customer(actor=office, phones=[unique_phone()])
    make_customer(actor=office, phones=[unique_phone()])
    services.customer_tags_set(customer=member, names="Member", actor=office)
    services.customer_tags_set(customer=vip, names="VIP, Pets on site", actor=office)
    spec = SegmentSpec(tags=["member", "vip"])
    spec.check()
    assert set(segments.segment_queryset(spec).values_list("pk", flat=True)) == {member.pk, vip.pk}
    assert segments.segment_count(SegmentSpec(tags=["Pets on site"])) == 1
    saved = segments.segment_save(name="Members", spec=SegmentSpec(tags=["Member"]))
    assert SegmentSpec.from_json(saved.spec).tags == ["Member"]


def test_a_tag_nobody_carries_drops_out_of_the_pickers_but_a_saved_segment_still_opens(
    office, owner, client_for
):
    ana = make_customer(actor=office)
    services.customer_tags_set(customer=ana, names="Memebr", actor=office)  # a slip of the keyboard
    saved = segments.segment_save(name="Members", spec=SegmentSpec(tags=["Memebr"]))
    services.customer_tags_set(customer=ana, names="Member", actor=office)
    assert tag_names() == ["Member"]
    page = client_for(owner).get(f"/leads/segments/{saved.pk}/")
    assert page.status_code == 200 and page.context["count"] == 0, page.context["form"].errors

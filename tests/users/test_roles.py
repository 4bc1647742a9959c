import pytest
from django.contrib.auth.models import Group

from users.roles import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db


def test_every_role_has_a_group_with_exactly_its_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(perms), role


def test_office_may_merge_customers_and_the_dispatcher_may_not(office, dispatcher):
    assert office.has_perm("customers.merge_customer")
    assert not dispatcher.has_perm("customers.merge_customer")


def test_a_deactivated_user_has_no_role(office):
    office.is_active = False
    assert office.role is None
    assert Role.OFFICE in [g.name for g in office.groups.all()]


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/leads/", "Leads"),
        ("/leads/42/", "Leads"),
        ("/leads/inbox/", "Inbox"),
        ("/leads/marketing/", "Marketing"),
        ("/leads/messaging-settings/", "Marketing"),
        ("/leads/sources/3/", "Marketing"),
        ("/leads/settings/", "Marketing"),
        ("/customers/7/", "Customers"),
        ("/settings/", "Settings"),
        ("/settings/tax-rates/3/", "Settings"),
        ("/finance/ledger/1200/", "Finance"),
        ("/finance/ar-aging/", "Finance"),
    ],
)
def test_the_nav_marks_the_section_a_page_belongs_to(rf, owner, path, active):
    from users.context_processors import navigation

    request = rf.get(path)
    request.user = owner
    context = navigation(request)
    items = context["nav_items"] + context["account_items"]  # Settings and Exceptions: the account menu
    assert [item["label"] for item in items if item["active"]] == [active]

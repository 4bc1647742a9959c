"""Each role logs in through the real form, lands on its own home with its own navigation, and logs out."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory, make_customer
from users.roles import NAVIGATION, Role

ALL_NAV_LABELS = {label for label, _, _ in NAVIGATION}

HOMES = {
    Role.OWNER: {
        "path": "/dashboard/",
        "heading": "Dashboard",
        "nav": {"Dashboard", "Customers", "Dispatch"},
        "account": {"Settings", "Finance"},
    },
    Role.OFFICE: {
        "path": "/customers/",
        "heading": "Customers",
        "nav": {"Customers", "Jobs", "Dispatch"},  # a small shop's office also dispatches
        "account": {"Exceptions", "AR aging"},
    },
    Role.DISPATCHER: {"path": "/dispatch/", "heading": "Dispatch board", "nav": {"Customers", "Dispatch"}},
    Role.TECHNICIAN: {"path": "/my-day/", "heading": "Today's visits", "nav": {"My day"}},
}
# Links a role must never see, whatever else the navigation gains later.
FORBIDDEN = {
    Role.OWNER: {"My day"},
    Role.OFFICE: {"Dashboard", "My day"},
    Role.DISPATCHER: {"Dashboard", "My day", "Exceptions"},
    Role.TECHNICIAN: {"Dashboard", "Customers", "Dispatch", "Exceptions"},
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(HOMES), ids=str)
def test_each_role_logs_in_lands_on_its_home_with_its_own_navigation_and_logs_out(
    role, request, live_server, e2e_business
):
    home = HOMES[role]
    user = UserFactory(username=f"e2e_{role}", first_name="Sam", role=role)
    for _ in range(3):
        make_customer()
    # Technicians work from a phone; everybody else from a desk.
    page = request.getfixturevalue("phone_page" if role == Role.TECHNICIAN else "page")

    login(page, live_server, user.username, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}{home['path']}")
    if role == Role.TECHNICIAN:
        expect(page.get_by_role("heading", name=home["heading"])).to_be_visible()
    else:
        expect(page.get_by_role("heading", level=1)).to_have_text(home["heading"])
    if role == Role.OWNER:
        expect(page.get_by_test_id("leads-total")).to_be_visible()  # the dashboard's figures
    expect(page.locator(".brand")).to_have_text(e2e_business.name)

    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    shown = set(nav.get_by_role("link").all_inner_texts())
    shown = {label.strip() for label in shown}
    assert home["nav"] <= shown, f"{role} is missing links: {home['nav'] - shown}"
    assert not (shown & FORBIDDEN[role]), f"{role} sees links it should not: {shown & FORBIDDEN[role]}"
    account = {t.strip() for t in page.locator(".account-menu a").all_text_contents()}
    assert home.get("account", set()) <= account, f"{role}'s account menu misses {home['account'] - account}"
    assert not (account & FORBIDDEN[role]), f"{role}'s account menu has {account & FORBIDDEN[role]}"
    shown |= account
    assert shown <= ALL_NAV_LABELS
    active = nav.locator("a[aria-current=page]")
    if role == Role.OWNER:
        expect(active).to_have_text("Dashboard")
    elif role == Role.TECHNICIAN:
        expect(active).to_have_text("My day")

    screenshot_both(page, f"home-{role}")

    menu = page.locator("details.account > summary")
    if menu.count():  # the account menu holds Log out for the roles that have one
        menu.click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    # Logged out for real: the home page sends us back to the login form.
    page.goto(f"{live_server.url}{home['path']}")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next={home['path']}")

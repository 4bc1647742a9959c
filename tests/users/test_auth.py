import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("owner", "/dashboard/"),
        ("office", "/customers/"),
        ("dispatcher", "/dispatch/"),
        ("technician", "/my-day/"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_home(personas, persona, home, business):
    client = Client()
    response = client.post(
        reverse("login"), {"username": personas[persona].username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_the_navigation_shows_only_the_roles_pages(technician, client_for, business):
    body = client_for(technician).get("/my-day/").content.decode()
    assert "My day" in body
    assert "/customers/" not in body and "/dashboard/" not in body


def test_a_user_without_a_role_is_told_so(outsider, client_for, business):
    response = client_for(outsider).get("/")
    assert response.status_code == 403 and "No role yet" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(office, business):
    client = Client()
    client.post(reverse("login"), {"username": office.username, "password": PASSWORD})
    assert client.get("/customers/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/customers/").status_code == 302


def test_five_failures_lock_the_account_for_that_address(office, business):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        client.post(reverse("login"), {"username": office.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": office.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert (
        other_address.post(reverse("login"), {"username": office.username, "password": PASSWORD}).status_code
        == 302
    )


def test_a_wrong_password_shows_a_form_error(office, business):
    response = Client().post(reverse("login"), {"username": office.username, "password": "nope"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


def test_password_reset_by_email(office, business):
    client = Client()
    client.post(reverse("password_reset"), {"email": office.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)[1]
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase-42", "new_password2": "a-new-long-passphrase-42"},
    )
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.check_password("a-new-long-passphrase-42")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(business, db):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []

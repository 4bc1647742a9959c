"""Walk every URL of the project as each role and as an anonymous visitor.

Each view declares who may use it (users.access.role_required / public, or `allowed_roles` on an API
view). This test finds every URL by itself, so the URLs later issues add are checked without editing it:
an undeclared view fails, a role reaching a page it should not fails, a 500 anywhere fails.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import make_customer
from users.access import PUBLIC

ROLES = ["owner", "office", "dispatcher", "technician", "outsider"]
SAMPLE_KWARGS = {"uidb64": "MQ", "token": "set-password"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def _allowed_roles(callback):
    declared = getattr(callback, "allowed_roles", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if declared is None and view_class is not None:
        declared = getattr(view_class, "allowed_roles", None)
    return declared


def _param_names(entry: URLPattern) -> list[str]:
    regex = entry.pattern.regex
    return list(regex.groupindex)


def project_urls():
    """(route, url name, declared roles) for every named URL outside the Django admin."""
    found = []
    for route, entry, namespace in _walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        found.append((route, f"{namespace}{entry.name}" if entry.name else None, entry))
    return found


def test_every_view_declares_who_may_use_it():
    undeclared = [route for route, _, entry in project_urls() if _allowed_roles(entry.callback) is None]
    assert not undeclared, f"Views without role_required/public/allowed_roles: {undeclared}"
    unnamed = [route for route, name, _ in project_urls() if name is None]
    assert not unnamed, f"Give these URLs a name so the walk can reverse them: {unnamed}"


@pytest.fixture
def sample_pk(db, office):
    return make_customer(actor=office).pk


def _url_for(name, entry, sample_pk):
    kwargs = {p: SAMPLE_KWARGS.get(p, sample_pk) for p in _param_names(entry)}
    return reverse(name, kwargs=kwargs)


def _cases():
    return [(route, name) for route, name, _ in project_urls() if name]


@pytest.mark.parametrize(("route", "name"), _cases(), ids=[c[0] or "/" for c in _cases()])
def test_each_role_reaches_only_what_the_view_allows(route, name, personas, client_for, sample_pk, business):
    entry = next(e for r, n, e in project_urls() if n == name)
    url = _url_for(name, entry, sample_pk)
    declared = _allowed_roles(entry.callback)
    is_api = url.startswith("/api/")

    response = Client().get(url)
    assert response.status_code != 500, f"anonymous GET {url} -> {response.status_code}"
    if declared != PUBLIC:
        if is_api:
            assert response.status_code in (401, 403), f"anonymous reached {url}"
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
                f"anonymous GET {url} -> {response.status_code}, expected a redirect to the login page"
            )

    for role in ROLES:
        response = client_for(personas[role]).get(url)
        allowed = declared == PUBLIC or role in declared
        assert response.status_code != 500, f"{role} GET {url} -> {response.status_code}"
        if declared == PUBLIC:
            continue
        if allowed:
            assert response.status_code != 403, f"{role} should reach {url} but got 403"
        else:
            assert response.status_code == 403, (
                f"{role} reached {url} ({response.status_code}); declared {declared}"
            )


@pytest.mark.parametrize("role", ["office", "dispatcher", "technician", "outsider"])
def test_admin_is_for_the_owner_only(role, personas, client_for, business):
    response = client_for(personas[role]).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_owner_opens_every_admin_changelist(owner, client_for, business, sample_pk):
    from django.contrib import admin

    client = client_for(owner)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("admin:customers_customer_change", args=[sample_pk])).status_code == 200


def test_walk_finds_the_foundation_urls():
    routes = {route for route, _, _ in project_urls()}
    for expected in ("customers/", "customers/<int:pk>/", "healthz", "api/v1/schema/", "exceptions/"):
        assert expected in routes
    assert any(re.search(r"customers", r) and r.startswith("api/v1/") for r in routes)

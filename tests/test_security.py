import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x7!q0m#v3k$2z9w@p5t8r1y6u4i0o-e3a7s9d2f6g8h1j5k4l0",
    "DJANGO_ALLOWED_HOSTS": "app.example.com",
    "DJANGO_HTTPS": "1",
    "DJANGO_DEBUG": "0",
}


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by tests/e2e only
    env.update(PRODUCTION_ENV)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_a_csp_without_unsafe_inline_scripts_and_a_nonce(client, business):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'nonce-" in script_src
    nonce = script_src.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token(office, client_for, business):
    from django.test import Client

    body = client_for(office).get("/customers/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(office, backend="django.contrib.auth.backends.ModelBackend")
    response = strict.post("/exceptions/1/", {"action": "retry"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403

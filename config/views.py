"""Wiring-level pages: the role router, the owner's dashboard and the health check."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from customers.models import Customer, Property
from events.models import Delivery, Event, WorkerHeartbeat
from messaging import outbox
from users.access import public, role_required
from users.models import User
from users.roles import HOME_URL_NAMES, Role


@public
def home(request):
    """Send each user to their role's home."""
    if not request.user.is_authenticated:
        return redirect("login")
    url_name = HOME_URL_NAMES.get(request.user.role)
    if url_name is None:
        return render(request, "no_role.html", status=403)
    return redirect(url_name)


@role_required(Role.OWNER)
def dashboard(request):
    week_ago = timezone.now() - timedelta(days=7)
    customers = Customer.objects.active()
    context = {
        "customers_total": customers.count(),
        "customers_new": customers.filter(created_at__gte=week_ago).count(),
        "properties_total": Property.objects.filter(customer__merged_into__isnull=True).count(),
        "technicians": User.objects.filter(groups__name=Role.TECHNICIAN, is_active=True).count(),
        "failed_deliveries": Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
        # A message's delivery steps (sent, failed ...) are shown as its state on its one row.
        "recent": Event.objects.exclude(code__in=outbox.OUTCOME_CODES)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")[:12],
    }
    return render(request, "dashboard/owner.html", context)


@public
@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for where a page names no icon (a JSON answer, an old bookmark):
    the app's SVG icon (static/favicon.svg, what every page links), never a 404."""
    return redirect(static("favicon.svg"), permanent=True)


@public
@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database(), "broker": _check_broker(), "worker": _check_worker()}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "transport": str(transport)}


def _check_worker() -> dict:
    beat = WorkerHeartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = (timezone.now() - beat.beat_at).total_seconds()
    ok = age <= settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS
    return {"ok": ok, "last_heartbeat": beat.beat_at.isoformat(), "age_seconds": round(age, 1)}

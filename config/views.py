"""Wiring-level pages: the role router, the owner's dashboard and the health check."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.models import Delivery, Event, WorkerHeartbeat
from messaging import outbox
from users.access import public, role_required
from users.roles import HOME_URL_NAMES, Role

from . import dashboard as owner_dashboard


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
    """The owner's figures for a range beside the previous range of equal length (config/dashboard.py)."""
    tz = request.business.tzinfo
    today = timezone.localdate(timezone.now(), tz)
    form = owner_dashboard.RangeForm(request.GET or None, initial={"range": "this_month"})
    choice, start, end = "this_month", None, None
    if form.is_bound and form.is_valid():
        choice = form.cleaned_data["range"] or "this_month"
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    period = owner_dashboard.period_for(choice, today, start, end)
    context = {
        "form": form,
        "period": period,
        "previous": period.previous(),
        "cards": owner_dashboard.owner_dashboard(period, tz),
        "failed_deliveries": Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
        # A message's delivery steps (sent, failed ...) are shown as its state on its one row.
        "recent": Event.objects.exclude(code__in=outbox.OUTCOME_CODES)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")[:12],
    }
    return render(request, "dashboard/owner.html", context, status=400 if form.errors else 200)


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

"""Being written: replaced within the hour."""

from django.http import HttpResponse

from users.access import role_required
from users.roles import STAFF_ROLES


@role_required(*STAFF_ROLES)
def board(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def lead_list(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def lead_create(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def lead_detail(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def lead_move(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def lead_act(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def attribution_report(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def marketing(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def source_list(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def source_detail(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def campaign_list(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def campaign_edit(request, pk=None):
    return HttpResponse("")


@role_required(*STAFF_ROLES)
def pipeline_settings(request, pk=None):
    return HttpResponse("")

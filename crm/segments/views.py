"""The segment builder: filters on the left, the live count and the first matching customers on the right
(htmx re-counts as the filters change); saved segments for campaigns."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from common.errors import ApplicationError
from users.access import role_required
from users.roles import Role

from . import services
from .forms import SegmentForm
from .models import Segment
from .services import SegmentSpec

OFFICE = (Role.OWNER, Role.OFFICE)


@role_required(*OFFICE)
def segment_list(request):
    rows = [
        (segment, services.segment_count(SegmentSpec.from_json(segment.spec)))
        for segment in Segment.objects.all()
    ]
    return render(request, "crm/segments/list.html", {"rows": rows})


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def segment_builder(request, pk: int | None = None):
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    if request.method == "POST":
        form = SegmentForm(request.POST)
    elif request.GET:
        form = SegmentForm(request.GET)
    else:
        spec = SegmentSpec.from_json(segment.spec) if segment else SegmentSpec()
        form = SegmentForm(_as_query(spec, segment.name if segment else ""))
    context = {"form": form, "segment": segment, "count": None, "preview": []}
    if form.is_valid():
        try:
            spec = form.spec()
            if request.method == "POST":
                saved = services.segment_save(
                    name=form.cleaned_data["name"], spec=spec, actor=request.user, segment=segment
                )
                messages.success(request, f"Segment {saved.name} saved.")
                return redirect("crm:segment", pk=saved.pk)
            context.update(
                count=services.segment_count(spec),
                reachable=services.segment_count(spec, marketing=True),
                preview=services.segment_preview(spec),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    status = 400 if request.method == "POST" else 200
    template = "crm/segments/builder.html#result" if request.htmx else "crm/segments/builder.html"
    return render(request, template, context, status=status)


def _as_query(spec: SegmentSpec, name: str) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in SegmentForm.initial_for(spec, name).items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = str(value)
    return query

"""Review pages: the customer's link (/r/<token>, public), the owner's settings (/settings/reviews/) and
report (/reports/reviews/, also as CSV). The URLs are wired in config/urls.py: /r/<token> is a contract
(it is in every request sent)."""

import csv
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from common.csvfile import safe_cell
from common.errors import ApplicationError, NotFound
from common.ratelimit import rate_exceeded
from messaging import services as messaging
from users.access import public, role_required
from users.roles import Role

from . import reviews
from .review_models import ReviewSettings


class ReviewSettingsForm(forms.ModelForm):
    google_review_url = forms.URLField(
        label="Or your Google review link",
        required=False,
        assume_scheme="https",
        help_text=ReviewSettings._meta.get_field("google_review_url").help_text,
    )

    class Meta:
        model = ReviewSettings
        fields = ReviewSettings.EDITABLE
        labels = {
            "enabled": "Ask customers for a Google review",
            "trigger": "After",
            "delay_hours": "Wait (hours)",
            "google_place_id": "Google place ID",
            "google_review_url": "Or your Google review link",
            "ask_score": "Also ask for a 1-5 score (an optional reply)",
            "low_score_threshold": "Alert me at or below",
            "reminder_days": "Remind after (days)",
            "min_days_between": "Ask a customer at most once in (days)",
            "sms_template": "Text",
            "email_subject": "E-mail subject",
            "email_template": "E-mail",
            "reminder_template": "Reminder",
        }
        help_texts = {
            "trigger": "What starts the wait.",
            "delay_hours": "Quiet hours still apply to the text.",
            "low_score_threshold": "",
        }
        widgets = {
            "sms_template": forms.Textarea(attrs={"rows": 4}),
            "email_template": forms.Textarea(attrs={"rows": 6}),
            "reminder_template": forms.Textarea(attrs={"rows": 4}),
            "low_score_threshold": forms.Select(choices=[(n, f"{n}/5") for n in range(1, 5)]),
        }


class ReviewReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end is before the start.")
        return data


@public
@require_GET
def review_click(request, token: str):
    """The customer's link: the click recorded, then Google's review page. Never indexed, no referrer."""
    try:
        url = reviews.review_click(token=token)
    except NotFound:
        # Wrong guesses from one address are limited as on the estimate and invoice links.
        if rate_exceeded(
            key=f"review-miss:{request.META.get('REMOTE_ADDR', '')}", rate=settings.PUBLIC_LINK_GUESS_RATE
        ):
            return _no_index(HttpResponse("Too many attempts. Try again in a minute.", status=429))
        raise Http404("No such page.") from None
    return _no_index(HttpResponseRedirect(url))


def _no_index(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.OWNER)
@require_http_methods(["GET", "POST"])
def review_settings(request):
    form = ReviewSettingsForm(request.POST or None, instance=ReviewSettings.current())
    if request.method == "POST" and form.is_valid():
        try:
            reviews.review_settings_update(
                review_settings=ReviewSettings.current(), actor=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Review requests saved.")
            return redirect("review-settings")
    status = 400 if form.is_bound and form.errors else 200
    saved = ReviewSettings.current()  # as stored (the form's instance holds what was typed)
    context = {"form": form, "review_url": saved.review_url, "preview": _preview(saved)}
    return render(request, "crm/reviews/settings.html", context, status=status)


def _preview(rules: ReviewSettings) -> str:
    """The text as a customer named Ana would get it (an example link)."""
    example = {"first_name": "Ana", "technician": "Jake", "review_link": "https://example.com/r/abc123"}
    body = messaging.render_template(rules.sms_template, extra=example)
    return f"{body}\n{reviews.SCORE_QUESTION}" if rules.ask_score else body


@role_required(Role.OWNER)
@require_GET
def review_report(request):
    today = timezone.localdate()
    start, end = (today - timedelta(days=150)).replace(day=1), today
    form = ReviewReportForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound:
        if not form.is_valid():
            return render(request, "crm/reviews/report.html", {"form": form}, status=400)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    report = reviews.review_report(start=start, end=end, tz=request.business.tzinfo)
    if request.GET.get("download") == "csv":
        return _csv(report, start, end)
    context = {"form": form, "report": report, "start": start, "end": end}
    context["to_call"] = reviews.low_scores_to_call()
    return render(request, "crm/reviews/report.html", context)


def _csv(report: dict, start, end) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="review-requests-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(["group", "label", "sent", "clicked", "click rate %", "scored", "average score"])
    rows = [("total", report["total"])]
    rows += [("technician", row) for row in report["technicians"]]
    rows += [("month", row) for row in report["months"]]
    for group, row in rows:
        rate, average = _blank(row.click_rate), _blank(row.average_score)
        writer.writerow([group, safe_cell(row.label), row.sent, row.clicked, rate, row.scored, average])
    return response


def _blank(value) -> str:
    return "" if value is None else str(value)

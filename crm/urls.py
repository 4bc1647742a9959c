from django.urls import include, path

from . import inbox, views
from .segments import views as segment_views

app_name = "crm"

urlpatterns = [
    path("", views.board, name="board"),
    path("list/", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/move/", views.lead_move, name="move"),
    path("<int:pk>/act/", views.lead_act, name="act"),
    path("report/", views.attribution_report, name="report"),
    path("marketing/", views.marketing, name="marketing"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("segments/", segment_views.segment_list, name="segments"),
    path("segments/new/", segment_views.segment_builder, name="segment-new"),
    path("segments/<int:pk>/", segment_views.segment_builder, name="segment"),
    path("segments/<int:pk>/counts/", segment_views.segment_counts, name="segment-counts"),
    path("campaigns/<int:pk>/", views.campaign_edit, name="campaign"),
    path("reactivation/", segment_views.outreach_list, name="outreaches"),
    path("reactivation/new/", segment_views.outreach_edit, name="outreach-new"),
    path("reactivation/<int:pk>/", segment_views.outreach_detail, name="outreach"),
    path("reactivation/<int:pk>/edit/", segment_views.outreach_edit, name="outreach-edit"),
    path(
        "reactivation/<int:pk>/<str:action>/",
        segment_views.outreach_action,
        name="outreach-action",
    ),
    path("settings/", views.pipeline_settings, name="settings"),
    path("messaging-settings/", views.messaging_settings, name="messaging-settings"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox.inbox, name="inbox-conversation"),
    path("inbox/<int:pk>/reply/", inbox.reply, name="inbox-reply"),
    path("inbox/<int:pk>/action/", inbox.conversation_action, name="inbox-action"),
    path("inbox/customer/<int:customer_pk>/", inbox.customer_conversation, name="inbox-customer"),
    path("forms/", include("crm.webforms.urls")),
    path("import/", include("crm.imports.urls")),
]

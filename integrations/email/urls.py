"""The inbound e-mail webhook. Importing this module (the URLconf does) connects the anymail signal."""

from django.urls import path

from users.access import public

from .inbound import InboundWebhookView

app_name = "email"

urlpatterns = [
    path("postmark/inbound/", public(InboundWebhookView.as_view()), name="postmark-inbound"),
]

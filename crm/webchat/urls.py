"""Mounted at /chat/ with no namespace: what customers' websites load (chat.js) and talk to."""

from django.urls import path

from ..webforms import public_urls  # noqa: F401  registers the `webform_id` converter
from . import views

urlpatterns = [
    path("<webform_id:public_id>/chat.js", views.chat_js, name="webchat-js"),
    path("<webform_id:public_id>/start/", views.chat_start_view, name="webchat-start"),
    path("<webform_id:public_id>/<str:token>/messages/", views.chat_messages_view, name="webchat-messages"),
]

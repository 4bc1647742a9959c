from django.urls import path

from . import views

app_name = "twilio"

urlpatterns = [
    path("voice/", views.voice, name="voice"),
    path("voice/status/", views.voice_status, name="voice_status"),
    path("sms/", views.sms, name="sms"),
    path("status/", views.message_status, name="message_status"),
]

from django.urls import include, path

urlpatterns = [
    path("leads/", include("integrations.leadsources.urls")),
    path("twilio/", include("integrations.twilio.urls")),
    path("stripe/", include("integrations.payments.urls")),
]

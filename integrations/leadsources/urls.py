from django.urls import path

from . import views

app_name = "leadsources"

urlpatterns = [
    # Before the slug route: /integrations/leads/facebook/ is Meta's webhook, not a source's.
    path("facebook/", views.facebook_webhook, name="facebook"),
    path("<slug:slug>/", views.generic_webhook, name="generic"),
    path("<slug:slug>/google-ads/", views.google_ads_webhook, name="google_ads"),
]

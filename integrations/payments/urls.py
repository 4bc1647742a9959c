from django.urls import path

from . import views

app_name = "stripe"

urlpatterns = [
    path("pay/<str:token>/", views.pay, name="pay"),
    path("webhook/", views.webhook, name="webhook"),  # a contract with the Stripe dashboard: keep it
]

from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("", views.settings_hub, name="settings"),
    path("business/", views.business_settings, name="business"),
    path("business/logo/", views.business_logo, name="business-logo"),
    path("business/sample-invoice.pdf", views.document_preview, name="document-preview"),
    path("tax-rates/", views.tax_rates, name="tax-rates"),
    path("tax-rates/<int:pk>/", views.tax_rate_edit, name="tax-rate-edit"),
    path("tax-rates/<int:pk>/action/", views.tax_rate_action, name="tax-rate-action"),
]

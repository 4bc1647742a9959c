from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("duplicates/", views.customer_duplicates, name="duplicates"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
    path("<int:pk>/tags/", views.customer_tags, name="tags"),
    path("<int:pk>/consent.csv", views.consent_export, name="consent-export"),
    path("<int:pk>/phones/<int:phone_pk>/clear-stop-flag/", views.consent_clear_flag, name="consent-clear"),
]

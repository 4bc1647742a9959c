"""Mounted at /leads/import/ inside the "crm" namespace: reverse as "crm:import-list"."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("new/", views.import_upload, name="import-upload"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/columns/", views.import_mapping, name="import-mapping"),
    path("<int:pk>/problems.csv", views.import_report, name="import-report"),
]

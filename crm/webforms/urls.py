"""Mounted at /leads/forms/ inside the "crm" namespace: the office sets up its website forms."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.webform_list, name="webform-list"),
    path("new/", views.webform_create, name="webform-create"),
    path("<int:pk>/", views.webform_edit, name="webform-edit"),
]

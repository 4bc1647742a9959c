from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.exception_queue, name="exceptions"),
    path("<int:pk>/", views.delivery_action, name="delivery-action"),
]

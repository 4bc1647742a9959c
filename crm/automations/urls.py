from django.urls import path

from . import views

app_name = "automations"

urlpatterns = [
    path("", views.sequence_list, name="list"),
    path("new/", views.sequence_create, name="create"),
    path("<int:pk>/", views.sequence_detail, name="detail"),
    path("<int:pk>/edit/", views.sequence_edit, name="edit"),
    path("<int:pk>/switch/", views.sequence_switch, name="switch"),
    path("<int:pk>/steps/", views.step_add, name="step-add"),
    path("<int:pk>/steps/<int:step_pk>/", views.step_edit, name="step-edit"),
    path("<int:pk>/steps/<int:step_pk>/move/", views.step_move, name="step-move"),
    path("<int:pk>/enrollments/", views.sequence_enrollments, name="enrollments"),
    path("customer/<int:pk>/", views.customer_card, name="customer"),
    path("customer/<int:pk>/enroll/", views.customer_enroll, name="enroll"),
    path("estimate/<int:pk>/", views.estimate_card, name="estimate"),
    path("estimate/<int:pk>/enroll/", views.estimate_enroll, name="estimate-enroll"),
    path("enrollments/<int:pk>/stop/", views.enrollment_stop, name="stop"),
]

# Mounted at the project's root by config.urls: the office's task list and the owner's message limits.
task_urls = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/count/", views.task_count, name="task-count"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("settings/automations/", views.automation_settings, name="automation-settings"),
]

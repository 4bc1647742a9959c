from django.apps import AppConfig


class FsmConfig(AppConfig):
    name = "fsm"
    verbose_name = "Field service"

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Activity log and milestones"

    def ready(self) -> None:
        from . import registry

        registry.autodiscover()

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Activity log and milestones"

    def ready(self) -> None:
        from . import registry, tasks  # noqa: F401 (tasks: registered with Celery in every process)

        registry.autodiscover()

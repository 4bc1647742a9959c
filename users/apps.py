from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        # A framework hook: after every migrate, make sure each role's group has its permissions.
        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs) -> None:
    from .services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        # A framework hook: after every migrate, make sure each role's group has its permissions.
        # Not limited to this app's signal: other apps' permissions are created after ours.
        post_migrate.connect(_sync_roles, dispatch_uid="users.sync_roles")


def _sync_roles(**kwargs) -> None:
    from .services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import User
from .roles import ROLE_PERMISSIONS, Role


def role_groups_sync(*, using: str = "default") -> None:
    """Create one group per role and give it exactly the permissions of users.roles."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted += list(
                Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
) -> User:
    """Create a user with one role. The owner also gets the admin site."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            is_staff=role == Role.OWNER,
            is_superuser=role == Role.OWNER,
        )
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user

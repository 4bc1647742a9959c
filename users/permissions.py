"""DRF permissions. An API view declares `allowed_roles` (and `write_roles` for unsafe methods)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class DenyAll(BasePermission):
    """The default: an API view that declares nothing is closed."""

    def has_permission(self, request, view) -> bool:
        return False


class HasRole(BasePermission):
    message = "Your role cannot use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = getattr(view, "allowed_roles", ())
        if request.method not in SAFE_METHODS:
            roles = getattr(view, "write_roles", roles)
        return user.has_role(*roles)

"""The one helper views use to declare who may use them.

    @role_required(Role.OWNER, Role.OFFICE)
    def customer_list(request): ...

    @public
    def healthz(request): ...

Both set `view.allowed_roles` so that the URL walk test (tests/test_access.py) can check every URL of the
project against what the view declares. A view without a declaration fails that test.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

PUBLIC = "public"


def role_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_role(*roles):
                raise PermissionDenied("Your role cannot open this page.")
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = tuple(str(r) for r in roles)
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    view.allowed_roles = PUBLIC
    return view

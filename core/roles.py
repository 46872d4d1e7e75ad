"""The two roles of the portal and what each may do.

Roles are Django groups holding the permissions listed in :data:`ROLES` (the groups were made by
``portal/migrations/0002_roles.py``; ``core/migrations/0002_move_from_portal.py`` moved their
permissions to this app). Views check them with :func:`marketer_required` /
:func:`sync_admin_required` or the mixins.
"""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

MARKETER = "Marketer"
SYNC_ADMIN = "Sync admin"

MARKETER_PERMISSIONS = [
    ("prospects", "view_prospect"),
    ("prospects", "add_prospect"),
    ("prospects", "change_prospect"),
    ("prospects", "view_campaign"),
    ("core", "use_portal"),
]
SYNC_ADMIN_PERMISSIONS = [
    *MARKETER_PERMISSIONS,
    ("prospects", "delete_prospect"),
    ("prospects", "add_campaign"),
    ("prospects", "change_campaign"),
    ("core", "administer_sync"),
]
# Each role's (app label, codename) permissions.
ROLES = {MARKETER: MARKETER_PERMISSIONS, SYNC_ADMIN: SYNC_ADMIN_PERMISSIONS}


def is_marketer(user) -> bool:
    """Marketers and Sync admins both count: a Sync admin can do everything a marketer can."""
    return user.is_authenticated and (user.is_superuser or user.has_perm("core.use_portal"))


def is_sync_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm("core.administer_sync"))


def _role_required(check: Callable) -> Callable:
    def decorator(view):
        @login_required
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


marketer_required = _role_required(is_marketer)
sync_admin_required = _role_required(is_sync_admin)


class MarketerRequiredMixin(LoginRequiredMixin):
    """Class-based views: anonymous → login, signed in without the role → 403."""

    role_check = staticmethod(is_marketer)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.role_check(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class SyncAdminRequiredMixin(MarketerRequiredMixin):
    role_check = staticmethod(is_sync_admin)

"""The two roles of the portal and what each may do.

Roles are Django groups holding the permissions listed in :data:`ROLES` (the groups were made by
``portal/migrations/0002_roles.py``; ``core/migrations/0002_move_from_portal.py`` moved their
permissions to this app). Views check them with :func:`marketer_required` /
:func:`sync_admin_required`, or class-based views with :class:`MarketerRequiredMixin`.

Roles are explicit: Django's ``is_superuser`` and ``is_staff`` flags grant none. A superuser
without a role gets 403 like anyone else; a Sync admin who is also a superuser merely sees every
model in the Django admin.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

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


# The names ``manage.py createuser --role`` takes.
ROLE_NAMES = {"marketer": MARKETER, "sync-admin": SYNC_ADMIN}


def _role_permissions(user) -> frozenset[str]:
    """The ``core`` permissions the user holds through a group or directly, read once per user
    object. Unlike ``user.has_perm`` this ignores ``is_superuser``: a role is never implied."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    if not hasattr(user, "_role_permissions"):
        user._role_permissions = frozenset(
            Permission.objects.filter(
                Q(group__user=user) | Q(user=user), content_type__app_label="core"
            ).values_list("codename", flat=True)
        )
    return user._role_permissions


def is_marketer(user) -> bool:
    """Marketers and Sync admins both count: a Sync admin can do everything a marketer can."""
    return "use_portal" in _role_permissions(user)


def is_sync_admin(user) -> bool:
    return "administer_sync" in _role_permissions(user)


@transaction.atomic
def create_user(*, username: str, password: str, role: str, email: str = ""):
    """A portal user holding exactly one role. Sync admins are staff too: the Django admin and
    the RQ dashboard ask for both the flag and the role (see portal/admin_site.py)."""
    user = get_user_model().objects.create_user(
        username=username, email=email, password=password, is_staff=role == SYNC_ADMIN
    )
    user.groups.add(Group.objects.get(name=role))
    return user


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

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_marketer(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

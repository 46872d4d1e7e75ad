"""The Django admin behind the Sync admin role.

Django's own admin lets in anyone with ``is_staff``. Here a visitor needs the flag *and* the
Sync admin role (:func:`core.roles.is_sync_admin`); others signed in get 403, anonymous visitors
go to the portal's login page (the one that throttles). The RQ dashboard is wrapped with the
same check in ``portal/urls.py``.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from core.roles import is_sync_admin


class PortalAdminSite(admin.AdminSite):
    site_header = "Leadbridge admin"
    site_title = "Leadbridge admin"
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_staff and is_sync_admin(user)

    def admin_view(self, view, cacheable: bool = False):
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """One login page for the whole portal: the admin's own form would skip the lockout."""
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

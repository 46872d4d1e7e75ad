from rest_framework.permissions import BasePermission

from core.roles import is_marketer


class IsMarketer(BasePermission):
    """Marketers and Sync admins use the API; a signed-in user without a role gets 403 (and
    no one is let in by ``is_staff``/``is_superuser`` alone, as everywhere in the portal)."""

    message = "Your user has no Leadbridge role (Marketer or Sync admin)."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and is_marketer(request.user))

"""``Authorization: Bearer <key>``: who an API request acts for."""

from rest_framework import authentication, exceptions

from api.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A personal API key (``api.models.ApiKey``). The request acts as the key's user, with
    that user's role; a revoked key, or a deactivated user's, is refused (401)."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as 'Authorization: Bearer <key>', with nothing after it."
            )
        try:
            key = ApiKey.objects.authenticate(header[1].decode("ascii"))
        except UnicodeDecodeError:
            key = None
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        if not key.user.is_active:
            raise exceptions.AuthenticationFailed("This key's user is deactivated.")
        key.note_use()
        return key.user, key

    def authenticate_header(self, request) -> str:
        """Makes a missing or bad key a 401 (with this challenge), not a 403."""
        return 'Bearer realm="api"'

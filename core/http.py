"""Request helpers every layer shares."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connection's, or with ``TRUSTED_PROXY_COUNT`` proxies in front,
    the one the outermost of them appended to X-Forwarded-For (earlier entries can be forged).
    The login lockouts and the public forms' rate limit count by it."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    if count and len(forwarded) >= count and forwarded[-count]:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")

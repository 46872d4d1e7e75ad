"""A request budget per API key (``API_RATE_LIMIT``), counted in Redis for all web processes."""

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiKey

log = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """``API_RATE_LIMIT`` per key (per user for the docs' session requests); over it, 429 with
    ``Retry-After``. Read at each request, so a changed setting applies without a restart."""

    scope = "api"

    @property
    def cache(self):
        return caches["api"]

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - Redis down: serve rather than refuse everyone
            log.warning("API rate limit not counted: the cache is unreachable", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{request.auth.prefix}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return None  # refused by authentication anyway

"""A request budget per API key (``API_RATE_LIMIT``), counted in Redis for all web processes."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey

log = logging.getLogger(__name__)
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/minute" → (600, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period]


class ApiKeyRateThrottle(BaseThrottle):
    """``API_RATE_LIMIT`` requests per key (per user for the docs' session requests) in each
    fixed window of the period; over it, 429 with ``Retry-After`` (the window's end).

    One Redis round trip per request (INCR and EXPIRE pipelined) on the ``api`` cache's
    connection pool: DRF's own throttle stores, reads and rewrites the list of every request
    time in the window, which costs more than the rest of a small request. The setting is
    read at each request, so a change applies without a restart. Redis down: requests are
    served, not refused (and a warning is logged).
    """

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        ident = self.ident_of(request)
        if ident is None:
            return True  # refused by authentication anyway
        limit, period = parse_rate(settings.API_RATE_LIMIT)
        now = time.time()
        window = int(now // period)
        cache = caches["api"]
        key = cache.make_key(f"rate:{ident}:{window}")
        try:
            client = cache._cache.get_client(key, write=True)  # Django's RedisCache client
            count, _ = client.pipeline(transaction=False).incr(key).expire(key, period).execute()
        except Exception:  # noqa: BLE001 - Redis down: serve rather than refuse everyone
            log.warning("API rate limit not counted: the cache is unreachable", exc_info=True)
            return True
        if count <= limit:
            return True
        self.retry_after = max(1, math.ceil((window + 1) * period - now))
        return False

    def wait(self) -> int | None:
        return self.retry_after

    @staticmethod
    def ident_of(request) -> str | None:
        if isinstance(request.auth, ApiKey):
            return f"key-{request.auth.prefix}"
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return None

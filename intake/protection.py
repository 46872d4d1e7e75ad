"""What protects the public endpoints, which take POSTs from anyone without a CSRF token.

CSRF protection exists to stop another site from acting with a *signed-in user's* session.
Form handlers, forms and landing pages have no session to abuse: they are meant to be posted
from the customer's own site (another origin, so no CSRF cookie can reach it), and what they
accept is what any visitor may type in. What guards them instead:

1. an allowed-origins list (the browser's Origin, else Referer, header) per form or handler;
2. a body-size limit (413) before anything is parsed;
3. a per-IP rate limit in Redis (429), shared by every web process;
4. a honeypot field bots fill and people do not (``intake.submissions``).
"""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import urlsplit

import django_rq
from django.conf import settings
from django.http import HttpRequest
from redis import Redis

from core.http import client_ip

log = logging.getLogger(__name__)


def request_origin(request: HttpRequest) -> str | None:
    """Where the browser says the POST comes from: Origin, else Referer's origin; None when
    neither is sent (a script, curl: no browser to protect)."""
    origin = request.headers.get("Origin")
    if origin is None and (referer := request.headers.get("Referer")):
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"
    return origin.rstrip("/").lower() if origin is not None else None


def origin_allowed(request: HttpRequest, allowed: list[str]) -> bool:
    """An empty list allows any site; otherwise a browser's POST must come from one on it (our
    own pages too: a landing page posts its form to us)."""
    if not allowed:
        return True
    origin = request_origin(request)
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}".lower()
    return origin == own or origin in allowed


def same_origin(request: HttpRequest) -> bool:
    """Whether a browser's POST comes from our own pages (no header: not a browser)."""
    origin = request_origin(request)
    return origin is None or origin == f"{request.scheme}://{request.get_host()}".lower()


def body_too_large(request: HttpRequest) -> bool:
    """Whether the request declares (or, chunked, carries) more than FORM_MAX_BODY_BYTES."""
    limit = settings.FORM_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    if declared > limit:
        return True
    if not declared and request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return len(request.read(limit + 1)) > limit
    return False


@functools.cache
def redis_connection() -> Redis:
    """One Redis client per process for the public endpoints, its pool's connections kept:
    ``django_rq.get_connection`` makes a new client, so a new TCP connection, every call —
    more than the rest of a form post costs. (redis-py's pool starts again after a fork.)"""
    return django_rq.get_connection("default")


def rate_limited(request: HttpRequest, *, scope: str = "form") -> bool:
    """Whether this client went over FORM_RATE_LIMIT posts in the current minute.

    A fixed one-minute window per IP in Redis (a counter created with its expiry, then INCR), shared by
    every web process. Redis being down lets the submission through: losing a lead is worse
    than a minute without flood control.
    """
    limit = settings.FORM_RATE_LIMIT
    if not limit:
        return False
    key = f"leadbridge:rate:{scope}:{client_ip(request)}:{int(time.time() // 60)}"
    try:
        with redis_connection().pipeline() as pipe:
            pipe.set(key, 0, ex=61, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
    except Exception:  # noqa: BLE001 - fail open, see above
        log.warning("form rate limit unavailable (Redis)", exc_info=True)
        return False
    return count > limit

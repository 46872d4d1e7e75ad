"""The idle timeout: a signed-in session lasts ``SESSION_COOKIE_AGE`` past its last use."""

import time

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse

RENEWED_AT = "_idle_renewed_at"
RENEW_EVERY = 60  # seconds: the timeout is exact to within a minute


class IdleTimeoutMiddleware:
    """Renew a signed-in session's expiry as it is used, at most once a minute.

    Django's ``SESSION_SAVE_EVERY_REQUEST`` does the same by writing the session row on every
    request (htmx polls included); marking the session modified only when the last renewal is
    a minute old keeps the timeout and drops those writes. Sits below ``SessionMiddleware``,
    which saves the session and re-sends its cookie when it is modified.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session or not request.user.is_authenticated:
            return response
        last_login = request.user.last_login
        renewed_at = session.get(RENEWED_AT) or (last_login.timestamp() if last_login else 0)
        if time.time() - renewed_at >= RENEW_EVERY:
            session[RENEWED_AT] = time.time()
        return response

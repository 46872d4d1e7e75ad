"""The visitor cookie: which prospect this browser last submitted as.

``lb_visitor`` holds a prospect id signed with the secret key (``set_signed_cookie``): a
visitor cannot name another prospect by editing it. Set on every successful submission, read
by the next one and by the landing page's view beacon. A form handler's submission is applied
by a worker after the response, so its cookie names the submission (``r<key>``; ``s<id>`` from
before keys), which names its prospect once applied.
"""

from __future__ import annotations

import uuid

from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE = "lb_visitor"
SALT = "intake.visitor"
MAX_AGE = 365 * 24 * 3600


def visitor_id(request: HttpRequest) -> int | None:
    try:
        value = request.get_signed_cookie(COOKIE, salt=SALT, max_age=MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    if value.startswith(("r", "s")):
        return _submission_prospect(value)
    return int(value) if value.isdigit() else None


def _submission_prospect(value: str) -> int | None:
    """The prospect a submission named by the cookie became; None while it waits."""
    from intake.form_models import ReceivedSubmission

    if value.startswith("s") and value[1:].isdigit():
        found = ReceivedSubmission.objects.filter(pk=int(value[1:]))
    elif value.startswith("r"):
        try:
            found = ReceivedSubmission.objects.filter(key=uuid.UUID(hex=value[1:]))
        except ValueError:
            return None
    else:
        return None
    return found.values_list("prospect_id", flat=True).first()


def remember(request: HttpRequest, response: HttpResponse, prospect_id: int | str) -> None:
    """Set the cookie (a prospect id, or ``r<key>`` for a received submission). A form handler is posted from another site: only a ``SameSite=None;
    Secure`` cookie is sent back with such a POST, and browsers accept that only over HTTPS,
    so over plain HTTP (local use) it is ``Lax``."""
    secure = request.is_secure()
    response.set_signed_cookie(
        COOKIE,
        str(prospect_id),
        salt=SALT,
        max_age=MAX_AGE,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )

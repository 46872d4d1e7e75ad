"""Login lockouts (django-axes): what the login page says, and the Sync admins' Lockouts page.

django-axes counts failed logins per username and IP pair (settings.AXES_*); these functions are
the hooks it calls (``AXES_LOCKOUT_CALLABLE``, ``AXES_CLIENT_IP_CALLABLE``) and the page that
lists and lifts current lockouts.
"""

import logging
import math
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.http import client_ip
from core.roles import sync_admin_required

log = logging.getLogger(__name__)


def current_lockouts() -> QuerySet:
    """Username and IP pairs locked out now, as django-axes counts: the failures of rows within
    the cool-off, summed over user agents (an attacker may vary them)."""
    return (
        AccessAttempt.objects.filter(attempt_time__gt=timezone.now() - settings.AXES_COOLOFF_TIME)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )


def minutes_left(attempt_time: datetime) -> int:
    """Whole minutes until a lockout whose last failure was at ``attempt_time`` ends."""
    left = attempt_time + settings.AXES_COOLOFF_TIME - timezone.now()
    return max(1, math.ceil(left.total_seconds() / 60))


def locked_out(request: HttpRequest, response: HttpResponse, credentials: dict) -> HttpResponse:
    """The login page again, saying why this sign-in was refused (HTTP 429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    lockout = current_lockouts().filter(username=username, ip_address=client_ip(request)).first()
    minutes = minutes_left(lockout["last_attempt"] if lockout else timezone.now())
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "next": request.POST.get("next", ""),
        "lockout_minutes": minutes,
    }
    return render(request, "registration/login.html", context, status=429)


@sync_admin_required
def lockout_list(request: HttpRequest) -> HttpResponse:
    lockouts = [
        {**lockout, "minutes_left": minutes_left(lockout["last_attempt"])}
        for lockout in current_lockouts()
    ]
    context = {
        "lockouts": lockouts,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "portal/lockouts.html", context)


@sync_admin_required
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    """Lift one lockout: the pair's failures go, it may try again at once."""
    username, ip_address = request.POST.get("username", ""), request.POST.get("ip_address", "")
    deleted, _ = AccessAttempt.objects.filter(username=username, ip_address=ip_address).delete()
    if deleted:
        log.info(
            "%s lifted the login lockout of %r from %s",
            request.user.get_username(),
            username,
            ip_address,
        )
        messages.success(request, f"{username} can log in again from {ip_address}.")
    return redirect("portal:lockouts")

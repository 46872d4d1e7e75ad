"""The "notify a user by email" action's mail, sent by a worker after the actions commit."""

from __future__ import annotations

import logging

import django_rq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from prospects.models import Prospect

log = logging.getLogger(__name__)

JOB = "automation.notify.notify_user_job"


def enqueue_notification(user_id: int, sample: list[int], count: int, label: str) -> None:
    try:
        django_rq.get_queue("default").enqueue(JOB, user_id, sample, count, label)
    except Exception:  # noqa: BLE001 - Redis down: the actions stand, the email is lost
        log.warning("could not queue the notification for user %s", user_id, exc_info=True)


def notify_user_job(user_id: int, sample: list[int], count: int, label: str) -> None:
    """Email ``user_id``: one prospect by name and link, or how many with a sample of links."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    prospects = list(Prospect.objects.filter(pk__in=sample).order_by("pk"))
    if not prospects:
        return
    base = settings.PORTAL_URL.rstrip("/")
    lines = [
        f"- {p.full_name or p.email} <{p.email}>: {base}{reverse('prospects:detail', args=[p.pk])}"
        for p in prospects
    ]
    if count == 1:
        subject = f"{label}: {prospects[0].email}"
        body = f"{label} acted on this prospect:\n\n" + "\n".join(lines)
    else:
        subject = f"{label}: {count:,} prospects"
        more = f"\n… and {count - len(prospects):,} more." if count > len(prospects) else ""
        body = f"{label} acted on {count:,} prospects, among them:\n\n" + "\n".join(lines) + more
    send_mail(subject=subject, message=body + "\n", from_email=None, recipient_list=[user.email])

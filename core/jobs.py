"""RQ jobs every app shares."""

from django.db.models import F
from django.utils import timezone

from core.models import Heartbeat


def record_heartbeat(name: str = "cron") -> None:
    """Stamp that the cron enqueued this and a worker ran it (shown on the dashboard)."""
    updated = Heartbeat.objects.filter(name=name).update(
        beat_at=timezone.now(), count=F("count") + 1
    )
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": timezone.now(), "count": 1})

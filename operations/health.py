"""What the Sync health dashboard shows, read in a fixed handful of queries whatever the size of
the queue or the history: the connector (what it lost is the banner's, on every page), the queue, the API budget, liveness,
open incidents (Sync admins), and each marketer's own queue and errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from core.models import Heartbeat
from operations.models import Incident
from prospects.models import SyncQueueItem
from sync.models import Connector, ErrorCategory, SyncError


@dataclass
class QueueFigures:
    depth: int = 0
    oldest_at: dt.datetime | None = None
    retrying: int = 0  # rows whose last push failed transiently (attempts > 0)
    claimed: int = 0  # rows a worker holds now

    @property
    def age(self) -> dt.timedelta | None:
        return timezone.now() - self.oldest_at if self.oldest_at else None

    @property
    def stuck(self) -> bool:
        limit = dt.timedelta(minutes=settings.ALERT_QUEUE_STUCK_MINUTES)
        return self.age is not None and self.age > limit


@dataclass
class Budget:
    """The org's daily API calls: used, the connector's share of them, and what is left."""

    max: int | None
    used: int | None
    share: int
    checked_at: dt.datetime | None
    paused_until: dt.datetime | None

    @property
    def share_calls(self) -> int | None:
        return int(self.max * self.share / 100) if self.max else None

    @property
    def percent_of_share(self) -> int:
        if not self.share_calls or self.used is None:
            return 0
        return min(100, int(100 * self.used / self.share_calls))

    @property
    def spent(self) -> bool:
        paused = self.paused_until is not None and self.paused_until > timezone.now()
        return paused or (
            self.share_calls is not None and self.used is not None and self.used >= self.share_calls
        )


@dataclass
class Liveness:
    name: str
    beat_at: dt.datetime
    count: int

    @property
    def alive(self) -> bool:
        return timezone.now() - self.beat_at < dt.timedelta(minutes=settings.ALERT_SILENT_MINUTES)


@dataclass
class Health:
    admin: bool
    connector: Connector | None = None
    queue: QueueFigures = field(default_factory=QueueFigures)
    mine: QueueFigures = field(default_factory=QueueFigures)  # the marketer's own prospects
    budget: Budget | None = None
    liveness: list[Liveness] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    open_errors: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, n)
    my_open_errors: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.connector.state if self.connector else "none"


def queue_figures(items) -> QueueFigures:
    figures = items.aggregate(
        depth=Count("pk"),
        oldest_at=Min("requested_at"),
        retrying=Count("pk", filter=Q(attempts__gt=0)),
        claimed=Count("pk", filter=Q(claimed_at__isnull=False)),
    )
    return QueueFigures(**figures)


def error_counts(errors) -> list[tuple[str, str, int]]:
    """Open Sync Errors per category, every category listed (zero included)."""
    counts = dict(errors.open().values_list("category").annotate(n=Count("pk")).order_by())
    return [(value, str(label), counts.get(value, 0)) for value, label in ErrorCategory.choices]


def health_for(user, *, admin: bool) -> Health:
    """The dashboard's figures for this user: everything for a Sync admin; for a marketer, the
    queue and the Sync Errors of the prospects assigned to them, and the connector's state."""
    connector = Connector.objects.current()
    health = Health(admin=admin, connector=connector)
    mine = SyncQueueItem.objects.filter(prospect__assigned_user=user)
    health.mine = queue_figures(mine)
    health.my_open_errors = error_counts(SyncError.objects.filter(prospect__assigned_user=user))
    if not admin:
        return health
    if connector is not None:
        used = (
            connector.api_max - connector.api_remaining
            if connector.api_max and connector.api_remaining is not None
            else None
        )
        health.budget = Budget(
            max=connector.api_max,
            used=used,
            share=connector.api_share,
            checked_at=connector.api_checked_at,
            paused_until=connector.paused_until,
        )
    health.queue = queue_figures(SyncQueueItem.objects.all())
    health.liveness = [
        Liveness(b.name, b.beat_at, b.count) for b in Heartbeat.objects.order_by("name")
    ]
    health.incidents = list(Incident.objects.filter(resolved_at__isnull=True)[:20])
    health.open_errors = error_counts(SyncError.objects.all())
    return health

"""What operating the connector needs on rows: incidents the alerts open and resolve, and the
per-minute throughput the dashboard charts."""

from django.db import models
from django.db.models import Q


class Incident(models.Model):
    """Something a Sync admin must hear about, open from ``opened_at`` until ``resolved_at``.

    One open row per (kind, key) — the database enforces it — so two evaluators running at
    once (the cron job and the watchdog) open it, and mail about it, once. ``key`` names what
    exactly is wrong within the kind: the lost field (``Lead.Title``), the silent heartbeat.
    """

    class Kind(models.TextChoices):
        CONNECTOR = "connector", "Connector needs attention"
        BUDGET = "budget", "API budget spent"
        ERRORS = "errors", "Sync Errors spike"
        SILENT = "silent", "Worker or cron silent"
        QUEUE = "queue", "Queue stuck"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200, blank=True)
    summary = models.TextField(help_text="What is wrong, as the alert said it.")
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_incident_per_kind_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.key or self.summary[:60]}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class MetricMinute(models.Model):
    """Records pushed and pulled, and new Sync Errors per category, in one minute.

    Rolled up from ``SyncHistory``/``SyncError`` each minute (``operations.metrics.roll_up``):
    the dashboard reads at most 1,440 small rows for a day instead of aggregating the history,
    which grows by a row per record synced.
    """

    minute = models.DateTimeField(unique=True)
    pushed = models.PositiveIntegerField(default=0)
    pulled = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Refused pushes and pulls.")
    errors = models.JSONField(default=dict, blank=True, help_text="New Sync Errors by category.")

    class Meta:
        ordering = ["minute"]

    def __str__(self) -> str:
        return f"{self.minute:%H:%M} ↑{self.pushed} ↓{self.pulled}"

from django.db import models


class PortalPermissions(models.Model):
    """Holds the portal-wide permissions the roles are built from; has no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("use_portal", "Can use the portal (Marketer)"),
            ("administer_sync", "Can administer the connector and field sync (Sync admin)"),
        ]


class Heartbeat(models.Model):
    """One row per process kind proving the RQ cron enqueues and a worker runs jobs."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "portal_heartbeat"  # created by the portal app before core existed

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Task(models.Model):
    """A long job's progress, on a row the page polls (imports, bulk resyncs, initial syncs)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=50)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        db_table = "portal_task"  # created by the portal app before core existed

    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0

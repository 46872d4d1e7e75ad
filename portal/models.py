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

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"

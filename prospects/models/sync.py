"""A prospect's sync state that every writer shares: the pending-sync queue and the history.

Whatever changes a prospect — an edit form, an import, a form handler, a rule, a pull — asks for
its sync through ``prospects.sync_requests.request_sync``, which writes a ``SyncQueueItem`` (the
row *is* the pending state; Redis only wakes workers), and notes what it did in ``SyncHistory``.
They live with the prospects, below the connector: the connector's engine (``sync``) consumes
the queue and writes the history, and no writer needs to import the connector to ask for a sync.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone


class SyncReason(models.TextChoices):
    """Why a sync was requested: the closed set every trigger must use."""

    FIELD_UPDATE = "field_update", "Prospect field updated"
    CAMPAIGN_CHANGE = "campaign_change", "Campaign changed"
    ASSIGNMENT_CHANGE = "assignment_change", "Assigned user changed"
    MANUAL = "manual", "Sync with CRM (manual)"
    ERROR_REIMPORT = "error_reimport", "Sync Errors re-import"
    ERROR_RESYNC = "error_resync", "Sync Errors resync"
    FORM_HANDLER = "form_handler", "Form handler submission"
    LANDING_PAGE = "landing_page", "Landing page submission"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
    RESUBSCRIBE = "resubscribe", "Resubscribed"
    CSV_IMPORT = "csv_import", "CSV import"
    AUTOMATION_RULE = "automation_rule", "Automation rule"
    INITIAL_SYNC = "initial_sync", "Initial sync"
    API = "api", "API"
    FORM = "form", "Form submission"
    PREFERENCES = "preferences", "Email preferences changed"
    SCORE_CHANGE = "score_change", "Score or grade changed"
    CAMPAIGN_MEMBERSHIP = "campaign_membership", "Salesforce campaign membership"
    BULK_ACTION = "bulk_action", "Bulk action"
    COMPLETION_ACTION = "completion_action", "Completion action"


class SyncQueueItem(models.Model):
    """A prospect waiting to be pushed. The row *is* the pending state; Redis only wakes workers.

    ``generation`` grows with every request: a worker that pushed generation g deletes the row
    only if it is still g, so a change made while the push was in flight is never lost. On
    PostgreSQL the table leaves half of each page free (migration 0014), so a claim, which moves
    only unindexed columns, is a HOT update.
    """

    prospect = models.OneToOneField(
        "prospects.Prospect", on_delete=models.CASCADE, related_name="sync_queue_item"
    )
    reason = models.CharField(max_length=30, choices=SyncReason.choices)
    requested_at = models.DateTimeField(db_index=True)
    generation = models.PositiveIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True, help_text="Backoff after a failure.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "sync_syncqueueitem"  # made by the sync app, which owned it until 2026-11
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"prospect {self.prospect_id} ({self.reason})"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Leadbridge → Salesforce"
    INBOUND = "inbound", "Salesforce → Leadbridge"
    # History only: something a portal user did to the prospect here (an edit, a resync).
    LOCAL = "local", "In Leadbridge"


def actor_name(user) -> str:
    """How history names a portal user: their full name, else their username."""
    return (user.get_full_name() or user.get_username())[:150]


class SyncHistoryManager(models.Manager):
    def record_action(
        self,
        prospect_ids: Iterable[int],
        *,
        actor,
        operation: str,
        reason: str = "",
        changes: list[dict] | None = None,
        message: str = "",
    ) -> None:
        """Note what a portal user did to these prospects (an edit, a fix, an import, a
        resync): one row each, naming them. ``actor=None`` records the system."""
        user = actor if actor is not None and actor.is_authenticated else None
        now = timezone.now()
        prospects = self.model._meta.get_field("prospect").related_model.objects
        ids = list(prospect_ids)
        for start in range(0, len(ids), 1000):  # only prospects that still exist
            chunk = ids[start : start + 1000]
            existing = prospects.filter(pk__in=chunk).values_list("pk", flat=True)
            self.bulk_create(
                SyncHistory(
                    prospect_id=pk,
                    at=now,
                    direction=Direction.LOCAL,
                    operation=operation,
                    reason=reason,
                    changes=changes or [],
                    result=SyncHistory.Result.DONE,
                    message=message,
                    actor=user,
                    actor_label=actor_name(user) if user else "",
                )
                for pk in existing
            )


class SyncHistory(models.Model):
    """Something that happened to a prospect: a push or a pull (direction, fields changed old →
    new, rule, result), or what a portal user did here (``Direction.LOCAL``: an edit, a Sync
    Errors fix or re-import, a resync). ``actor`` names the user; empty, the system did it."""

    class Result(models.TextChoices):
        OK = "ok", "Synced"
        NOTHING = "nothing", "Nothing to send"
        ERROR = "error", "Refused"
        WAITING = "waiting", "Waiting for assignment"
        SKIPPED = "skipped", "Skipped"
        DONE = "done", "Done"

    # Indexed by synchistory_prospect_at (prospect first): a second index on it only costs writes.
    # No database constraint: a log written in bulk by every push and pull, where PostgreSQL's
    # check of each row at commit (an index probe and a lock on the prospect row) cost more
    # than writing the row. The engine writes history only for prospects it holds locked (or
    # has just created) in the same transaction; deleting a prospect still deletes its history
    # (Django's CASCADE, which never needed the constraint).
    prospect = models.ForeignKey(
        "prospects.Prospect",
        on_delete=models.CASCADE,
        related_name="sync_history",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField(db_index=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    operation = models.CharField(max_length=20)
    sobject = models.CharField(max_length=100, blank=True)
    record_id = models.CharField(max_length=18, blank=True)
    reason = models.CharField(max_length=30, blank=True)
    changes = models.JSONField(
        default=list, blank=True, help_text='[{"field", "old", "new", "rule"}, ...]'
    )
    result = models.CharField(max_length=10, choices=Result.choices)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The portal user who did it; empty when the system did (a pull, a push).",
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text="The user's name when they acted (kept if deleted)."
    )

    objects = SyncHistoryManager()

    class Meta:
        db_table = "sync_synchistory"  # made by the sync app, which owned it until 2026-11
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["prospect", "-at"], name="synchistory_prospect_at")]

    def __str__(self) -> str:
        return f"{self.direction} {self.operation} {self.result}"

    @property
    def who(self) -> str:
        """Who did it, as the prospect page says: the user's name, or "System"."""
        return self.actor_label or "System"

import logging
from collections.abc import Callable
from functools import partial

import django_rq
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


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

    # -- lifecycle: enqueue after commit, start once, advance, finish (as NetBox's Job) ---------

    QUEUE_DOWN = (
        "Background jobs are unavailable right now (the job queue cannot be reached), so "
        "nothing was started. Please try again in a few minutes; if it persists, tell your "
        "administrator."
    )

    class Unavailable(Exception):
        """The job queue (Redis) cannot be reached: no task was created and nothing ran."""

    @classmethod
    def enqueue(
        cls,
        func: Callable,
        *args,
        kind: str,
        user=None,
        queue_name: str = "default",
        message: str = "",
        **kwargs,
    ) -> "Task":
        """Create a task and have an RQ worker run ``func(task.pk, *args, **kwargs)``.

        1. The queue is reached first: without Redis this raises ``Task.Unavailable`` and
           creates nothing. A job never runs inside the web request instead — an import or a
           bulk resync would hold a web worker for minutes.
        2. The row is created in the caller's transaction.
        3. The job is sent once that transaction commits, so the worker finds the row and a
           rolled-back request sends nothing. Should Redis go away in between, the task is
           marked failed rather than left "queued" for ever.
        """
        try:
            django_rq.get_queue(queue_name).connection.ping()
        except (RedisError, OSError) as exc:
            raise cls.Unavailable(cls.QUEUE_DOWN) from exc
        task = cls.objects.create(kind=kind, created_by=user, message=message)
        transaction.on_commit(partial(task._send, queue_name, func, args, kwargs))
        return task

    def _send(self, queue_name: str, func: Callable, args: tuple, kwargs: dict) -> None:
        try:
            # Already after commit: django-rq must not defer the call once more.
            queue = django_rq.get_queue(queue_name, commit_mode="auto")
            queue.enqueue_call(func, args=(self.pk, *args), kwargs=kwargs)
        except (RedisError, OSError):
            log.warning("could not enqueue %s (task %s)", self.kind, self.pk, exc_info=True)
            self.finish(self.QUEUE_DOWN, failed=True)

    def start(self) -> bool:
        """Queued → running. False when another worker already took it (RQ may deliver a job
        twice): the caller then does nothing."""
        started = (
            type(self)
            .objects.filter(pk=self.pk, state=self.State.QUEUED)
            .update(state=self.State.RUNNING)
            == 1
        )
        if started:
            self.state = self.State.RUNNING
        return started

    def set_total(self, total: int) -> None:
        type(self).objects.filter(pk=self.pk).update(total=total)
        self.total = total

    def advance(self, *, done: int = 0, failed: int = 0) -> None:
        """Add to the counts on the row itself (``F()``), so copies held by several threads or
        processes never overwrite each other's progress."""
        type(self).objects.filter(pk=self.pk).update(
            done=F("done") + done, failed=F("failed") + failed
        )
        self.done += done
        self.failed += failed

    def finish(self, message: str, *, failed: bool = False, result: dict | None = None) -> None:
        """Record the outcome once: a task already finished keeps its first one."""
        fields = {
            "state": self.State.FAILED if failed else self.State.DONE,
            "message": message,
            "finished_at": timezone.now(),
        }
        if result is not None:
            fields["result"] = result
        if type(self).objects.filter(pk=self.pk, finished_at__isnull=True).update(**fields):
            for name, value in fields.items():
                setattr(self, name, value)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

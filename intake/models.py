"""The intake app's models: prospect imports here (one row per uploaded file, its saved
mappings and the rows it refused); forms, form handlers and landing pages in ``form_models.py``,
re-exported here so ``intake.models`` names them all."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.roles import is_sync_admin
from intake.form_models import (  # noqa: F401
    CompletionActions,
    Form,
    FormField,
    FormHandler,
    FormHandlerField,
    LandingPage,
    ReceivedSubmission,
)


class ImportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ImportQuerySet":
        """Sync admins see every import; a marketer sees their own (as with Tasks)."""
        return self if is_sync_admin(user) else self.filter(created_by=user)


class Import(models.Model):
    """An uploaded CSV/XLSX file and what became of it.

    ``draft`` waits for the marketer's mapping; then ``scheduled`` (a later run) or ``queued``
    (the imports worker takes it next) → ``running`` → ``done`` or ``failed``. ``cancelled``
    stops a run that has not finished; rows imported before stay. The counts move with each
    chunk of rows the worker writes, so the page shows progress while it runs.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "Waiting for mapping"
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    # Where the upload waits for the worker (under VAR_DIR); emptied once the run ends.
    stored_path = models.CharField(max_length=500, blank=True)
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # The header row as read, and column index (as text) → prospect field name.
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    message = models.TextField(blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task = models.ForeignKey(
        "core.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Every refused cell or row counted; only the first MAX_PROBLEMS are kept as rows.
    problems_total = models.PositiveIntegerField(default=0)

    objects = ImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_owner_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="scheduled") | Q(scheduled_for__isnull=False),
                name="scheduled_import_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("intake:import", args=[self.pk])

    @property
    def active(self) -> bool:
        """Waiting or running: the page keeps polling, and it may be cancelled."""
        return self.state in (self.State.SCHEDULED, self.State.QUEUED, self.State.RUNNING)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED, self.State.CANCELLED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.finished else 0
        return min(100, int(100 * self.rows_read / self.rows_total))

    def move(self, *, source: tuple[str, ...], to: str, **fields) -> bool:
        """Change state only from one of ``source`` (a conditional update): two workers, or a
        worker and a Cancel click, never both win."""
        moved = (
            type(self).objects.filter(pk=self.pk, state__in=source).update(state=to, **fields) == 1
        )
        if moved:
            self.state = to
            for name, value in fields.items():
                setattr(self, name, value)
        return moved

    def add_counts(self, **counts: int) -> None:
        """Add to the counts on the row itself (``F()``), as ``Task.advance`` does."""
        type(self).objects.filter(pk=self.pk).update(
            **{name: F(name) + value for name, value in counts.items()}
        )
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)


class ImportProblem(models.Model):
    """One refused row or cell, for the report: line in the file, column, value, reason."""

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["run", "line", "pk"]
        indexes = [models.Index(fields=["run", "line"], name="import_problem_line_idx")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportTemplate(models.Model):
    """A named mapping (header → field) and options, saved for the next file of the same kind.

    Keyed by header text rather than column position, so a file with the columns in another
    order still maps. Shared templates are offered to every marketer.
    """

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_templates"
    )
    shared = models.BooleanField(default=False, help_text="Offer it to every marketer.")
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="one_template_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name

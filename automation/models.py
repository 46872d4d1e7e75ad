"""Lists and automation rules: sets of prospects chosen by hand or by criteria, and rules that
act on them.

Criteria (``ProspectList.criteria``, ``Rule.criteria``) are JSON compiled to SQL by
``automation.criteria``; actions (``Rule.actions``) are the action set of ``automation.actions``,
the same one bulk actions and completion actions use.
"""

from django.conf import settings
from django.db import models


class ProspectList(models.Model):
    """A static list (members added and removed by hand, import or action) or a dynamic one
    (members are whoever its criteria match, recomputed in SQL)."""

    class Kind(models.TextChoices):
        STATIC = "static", "Static"
        DYNAMIC = "dynamic", "Dynamic"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STATIC)
    description = models.TextField(blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    recomputed_at = models.DateTimeField(null=True, blank=True)
    # Why the last recompute could not run (a field or list its criteria name was deleted);
    # the members stay as they were until the criteria are fixed.
    problem = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListMembership(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        IMPORT = "import", "Import"
        ACTION = "action", "Bulk action"
        RULE = "rule", "Automation rule"
        COMPLETION = "completion", "Completion action"
        CRITERIA = "criteria", "Dynamic criteria"
        API = "api", "API"

    # No single-column indexes of their own: "automation_list_member_once" (list, prospect)
    # serves lookups by list and "automation_member_prospect" those by prospect; a duplicate
    # index costs every one of a dynamic list's million inserts an index write.
    list = models.ForeignKey(
        ProspectList, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    prospect = models.ForeignKey(
        "prospects.Prospect",
        on_delete=models.CASCADE,
        related_name="list_memberships",
        db_index=False,
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    added_at = models.DateTimeField()
    # No index: nobody looks members up by who added them, and a million inserts pay for each.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["list", "prospect"], name="automation_list_member_once")
        ]
        indexes = [
            models.Index(fields=["prospect"], name="automation_member_prospect"),
            # The members page: newest first, a page at a time.
            models.Index(fields=["list", "-id"], name="automation_member_list_id"),
        ]


class Rule(models.Model):
    """Criteria and actions. Run once, or repeat on every change of a matching prospect."""

    class Mode(models.TextChoices):
        ONCE = "once", "Run once"
        REPEAT = "repeat", "Repeat on every change"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DONE = "done", "Ran once"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ONCE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Repeat rules look at prospects changed after this instant (moved by each run).
    watermark = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # Why the rule was paused by the system (its criteria or an action's target vanished).
    problem = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One run of a rule: when, how many matched, changed, failed, and why."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=20, default="manual")
    matched = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Matching prospects the loop guard held back (see ``automation.rules``).
    skipped = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["rule", "-started_at"], name="automation_run_rule_time")]


class AutomationStamp(models.Model):
    """The last change automation made to a prospect, for the loop guard (``automation.rules``).

    ``updated_at`` is the prospect's ``updated_at`` right after the rule's actions; while the
    prospect still has it, nobody but automation changed the prospect since, and its
    ``origin_at`` (the outside change the chain of rule actions started from) carries on.
    """

    prospect = models.OneToOneField(
        "prospects.Prospect", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    updated_at = models.DateTimeField()
    origin_at = models.DateTimeField()
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")


class RuleTouch(models.Model):
    """A repeat rule acted on a prospect for the outside change at ``origin_at``: it acts on
    the prospect again only after a newer outside change (the loop guard)."""

    # Indexed by "automation_touch_once" (rule, prospect) and "automation_touch_prospect" only:
    # a repeat rule upserts one touch per prospect it acts on.
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+", db_index=False)
    prospect = models.ForeignKey(
        "prospects.Prospect", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    origin_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "prospect"], name="automation_touch_once")
        ]
        indexes = [models.Index(fields=["prospect"], name="automation_touch_prospect")]

"""What a prospect did, or what happened to it that sales cares about: the timeline on the
prospect page, the input of scoring, and the source of ``Prospect.last_activity_at``.

Every intake path (form, form handler, landing page, import, preference centre) and the sync
events sales cares about (created in the CRM, converted) add one row here. Activities are
append-only: a correction is a new activity, never an edit of an old one.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ActivityType(models.TextChoices):
    FORM = "form", "Form submission"
    FORM_HANDLER = "form_handler", "Form handler submission"
    LANDING_PAGE_VIEW = "landing_page_view", "Landing page view"
    LANDING_PAGE = "landing_page", "Landing page submission"
    IMPORT = "import", "Imported"
    API = "api", "Created or updated through the API"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
    RESUBSCRIBE = "resubscribe", "Resubscribed"
    PREFERENCES = "preferences", "Email preferences changed"
    ASSIGNED = "assigned", "Assigned"
    CRM_CREATED = "crm_created", "Created in Salesforce"
    CONVERTED = "converted", "Converted to a contact"
    CAMPAIGN_MEMBER = "campaign_member", "Added to a Salesforce campaign"
    OPPORTUNITY_CREATED = "opportunity_created", "Opportunity created"
    OPPORTUNITY_WON = "opportunity_won", "Opportunity won"
    OPPORTUNITY_LOST = "opportunity_lost", "Opportunity lost"
    # Score bookkeeping (``prospects.scoring``): a manual or completion-action adjustment, a decay.
    SCORE_ADJUSTED = "score_adjusted", "Score adjusted"
    SCORE_DECAYED = "score_decayed", "Score decayed"


# The timeline's Bootstrap icon for each type.
ICONS = {
    ActivityType.FORM: "ui-checks",
    ActivityType.FORM_HANDLER: "send",
    ActivityType.LANDING_PAGE_VIEW: "eye",
    ActivityType.LANDING_PAGE: "window-sidebar",
    ActivityType.IMPORT: "upload",
    ActivityType.API: "code-slash",
    ActivityType.UNSUBSCRIBE: "envelope-slash",
    ActivityType.RESUBSCRIBE: "envelope-check",
    ActivityType.PREFERENCES: "sliders",
    ActivityType.ASSIGNED: "person-check",
    ActivityType.CRM_CREATED: "cloud-plus",
    ActivityType.CONVERTED: "arrow-left-right",
    ActivityType.CAMPAIGN_MEMBER: "megaphone",
    ActivityType.OPPORTUNITY_CREATED: "briefcase",
    ActivityType.OPPORTUNITY_WON: "trophy",
    ActivityType.OPPORTUNITY_LOST: "x-octagon",
    ActivityType.SCORE_ADJUSTED: "plus-slash-minus",
    ActivityType.SCORE_DECAYED: "graph-down-arrow",
}


class Activity(models.Model):
    # Indexed by activity_timeline (prospect first): a second index on it only costs writes.
    # No database constraint, as SyncHistory.prospect: a timeline written in bulk (a push's
    # "Created in Salesforce" per record), whose check at commit locked each prospect row the
    # transaction had just updated; Django's CASCADE still deletes a prospect's activities.
    prospect = models.ForeignKey(
        "prospects.Prospect",
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    type = models.CharField(max_length=30, choices=ActivityType.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    # What it was about, as the marketer knows it: the form's name, the import's file name.
    title = models.CharField(max_length=255, blank=True)
    # Anything else worth showing (the submitted values, unknown fields noted, the page URL).
    details = models.JSONField(default=dict, blank=True)
    # Score points this activity earned when it happened (scoring rules may change later).
    points = models.IntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["prospect", "-occurred_at"], name="activity_timeline"),
            models.Index(fields=["type", "occurred_at"], name="activity_type_when"),
        ]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.occurred_at:%Y-%m-%d %H:%M})"

    @property
    def icon(self) -> str:
        return ICONS.get(self.type, "dot")

    def detail_items(self) -> list[tuple[str, str]]:
        """The details as (name, text) pairs for the timeline (nested values as text)."""
        details = self.details if isinstance(self.details, dict) else {"details": self.details}
        return [(str(k), v if isinstance(v, str) else str(v)) for k, v in details.items()]

"""Form handlers, forms and landing pages: how visitors become prospects.

A *form handler* receives a POST from a form on the customer's own site (``/fh/<slug>/``) and
maps its fields to prospect fields. A *form* is built here from prospect fields and shown
embedded (an iframe, ``/f/<slug>/``) or on a *landing page* (``/l/<slug>/``). All three write
prospects the same way (``intake.submissions.submit``) and share the completion actions.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

# Prospect fields a visitor may not set from a public form: scoring, and the marketer's switch.
NOT_PUBLIC = frozenset({"score", "grade", "do_not_sync", "notes"})
DEFAULT_HONEYPOT = "leave_this_blank"


def public_field_choices() -> list[tuple[str, str]]:
    """Prospect fields a form or form handler may write: standard ones, then custom fields."""
    from intake.writes import WRITABLE
    from prospects.models import CustomField, Prospect

    standard = [
        (name, str(Prospect._meta.get_field(name).verbose_name).capitalize())
        for name in WRITABLE
        if name not in NOT_PUBLIC
    ]
    custom = [(c.prospect_field, f"{c.label} (custom)") for c in CustomField.objects.all()]
    return standard + custom


def validate_origin(value: str) -> None:
    for line in value.split():
        if not line.startswith(("https://", "http://")) or line.count("/") != 2:
            raise ValidationError(
                f"{line!r} is not an origin: write scheme and host, e.g. https://www.example.com"
            )


class CompletionActions(models.Model):
    """What happens after a successful submission (Pardot's completion actions).

    Assignment applies to prospects nobody is assigned to yet; the score adjustment adds
    points; the campaign replaces the prospect's; the notified user gets an email naming the
    prospect and a link to its page.
    """

    action_assign_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="assign to user",
    )
    action_assign_queue = models.ForeignKey(
        "prospects.CrmQueue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="assign to queue",
    )
    action_campaign = models.ForeignKey(
        "prospects.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="add to campaign",
    )
    action_score = models.IntegerField(
        "adjust score by", default=0, help_text="Points added (or taken, if negative)."
    )
    action_notify_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="notify user by email",
    )
    # More actions from the action set (automation.actions): add to a Salesforce campaign, set
    # a field, add to a list, … — JSON as the action set describes them, validated on save.
    completion_actions = models.JSONField(
        "more actions",
        default=list,
        blank=True,
        help_text="Further actions of the action set, run after the ones above.",
    )

    class Meta:
        abstract = True

    @property
    def has_completion_actions(self) -> bool:
        return bool(
            self.action_assign_user_id
            or self.action_assign_queue_id
            or self.action_campaign_id
            or self.action_score
            or self.action_notify_user_id
            or self.completion_actions
        )

    def clean(self) -> None:
        super().clean()
        if self.action_assign_user_id and self.action_assign_queue_id:
            raise ValidationError("Assign to a user or to a queue, not both.")


class PublicEntry(CompletionActions):
    """What form handlers and forms share: a public slug, a campaign, the honeypot, origins."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, help_text="Part of the public URL.")
    campaign = models.ForeignKey(
        "prospects.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The first-touch campaign of the prospects it creates.",
    )
    honeypot_field = models.CharField(
        max_length=50,
        default=DEFAULT_HONEYPOT,
        help_text="A hidden field people leave blank; a submission that fills it is dropped.",
    )
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origin],
        help_text="Sites allowed to submit or embed, one origin a line "
        "(https://www.example.com). Blank: any site.",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.rstrip("/").lower() for line in self.allowed_origins.split()]


class FormHandler(PublicEntry):
    """Receives a form posted from the customer's own site, at ``/fh/<slug>/``."""

    success_url = models.URLField(
        "success redirect", max_length=500, blank=True, help_text="Blank: a thank-you page."
    )
    error_url = models.URLField(
        "error redirect",
        max_length=500,
        blank=True,
        help_text="Gets ?errors=… naming what was missing. Blank: an error page.",
    )

    class Meta(PublicEntry.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("intake:handler_edit", args=[self.pk])

    def get_public_url(self) -> str:
        return reverse("intake_public:form_handler", args=[self.slug])


class FormHandlerField(models.Model):
    """One posted field: its name on the customer's form and the prospect field it fills."""

    handler = models.ForeignKey(FormHandler, on_delete=models.CASCADE, related_name="fields")
    external_name = models.CharField(
        max_length=100, help_text="The field's name in the posted form."
    )
    prospect_field = models.CharField(max_length=110)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["handler", "external_name"], name="one_mapping_per_posted_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_name} → {self.prospect_field}"


class Form(PublicEntry):
    """A form built from prospect fields; embedded at ``/f/<slug>/`` or on landing pages."""

    submit_label = models.CharField(max_length=50, default="Submit")
    thank_you_message = models.TextField(
        blank=True, default="Thank you! We will be in touch.", help_text="Shown after submitting."
    )
    thank_you_url = models.URLField(
        "thank-you redirect",
        max_length=500,
        blank=True,
        help_text="Send the visitor here instead of showing the message.",
    )

    class Meta(PublicEntry.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("intake:form_edit", args=[self.pk])

    def get_public_url(self) -> str:
        return reverse("intake_public:form", args=[self.slug])


class FormField(models.Model):
    """One field of a form: the prospect field, its label, its place, whether it is required.

    A dropdown or multi-select custom field shows its predefined values as choices.
    """

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    prospect_field = models.CharField(max_length=110)
    label = models.CharField(max_length=100, blank=True, help_text="Blank: the field's own name.")
    order = models.PositiveSmallIntegerField(default=0)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["form", "prospect_field"], name="one_field_per_form")
        ]

    def __str__(self) -> str:
        return self.label or self.prospect_field


class LandingPage(models.Model):
    """A public page at ``/l/<slug>/``: a title, some text and a form."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, help_text="Part of the public URL.")
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True, help_text="Plain text; blank lines make paragraphs.")
    form = models.ForeignKey(
        Form, null=True, blank=True, on_delete=models.SET_NULL, related_name="landing_pages"
    )
    is_active = models.BooleanField("published", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("intake:page_edit", args=[self.pk])

    def get_public_url(self) -> str:
        return reverse("intake_public:landing_page", args=[self.slug])


class ReceivedSubmission(models.Model):
    """A form handler POST, kept as received until a worker applies it (``intake.received``).

    The web request only checks and stores it — one INSERT, or on SQLite one push to the Redis
    buffer the worker stores from (``intake.buffer``) — so a burst of submissions costs the
    site's visitors nothing; the worker applies them a thousand at a time through the same
    write path as everything else. The row then says what became of it.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting"
        CREATED = "created", "Created a prospect"
        UPDATED = "updated", "Updated a prospect"
        UNCHANGED = "unchanged", "Matched a prospect, nothing to change"
        FAILED = "failed", "Refused"

    # Given by the request (the visitor cookie names it): a submission the Redis buffer
    # hands over twice is stored once (``intake.buffer``). Rows from before it have none.
    key = models.UUIDField(unique=True, null=True, editable=False)
    handler = models.ForeignKey(FormHandler, on_delete=models.CASCADE, related_name="received")
    posted = models.JSONField(help_text="Field name → list of values, as posted.")
    visitor_id = models.BigIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # When the post came, not when the worker stored it from the buffer.
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    prospect_id = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["id"],
                name="received_pending",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk} ({self.outcome})"

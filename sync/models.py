"""The connector's data: settings, field rules, the pending-sync queue, errors and history.

The database is the source of truth for what must sync (``SyncQueueItem``); Redis only carries
wake-ups. Every outcome of a sync is saved on a row: ``SyncHistory`` for what happened,
``SyncError`` for what Salesforce refused.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from prospects.models import Direction
from sync.crypto import EncryptedTextField


class ConnectorManager(models.Manager):
    """The one answer to "which connector?": the portal uses its first connector."""

    def current(self) -> "Connector | None":
        """The configured connector, whatever its state: what the settings pages show and edit."""
        return self.order_by("pk").first()

    def syncing(self, pk: int | None = None) -> "Connector | None":
        """The connector that syncs now: the current one when it ``may_sync``, else None.

        ``pk`` names the connector a job was queued for: a job for any other answers None.
        """
        connector = self.current()
        if connector is None or not connector.may_sync or pk not in (None, connector.pk):
            return None
        return connector


class Connector(models.Model):
    """One Salesforce org connection (one per business unit; the portal uses the first)."""

    class State(models.TextChoices):
        PAUSED = "paused", "Paused"
        ACTIVE = "active", "Active"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"

    class Grant(models.TextChoices):
        PASSWORD = "password", "Username and password (OAuth password grant)"
        CLIENT_CREDENTIALS = "client_credentials", "Client credentials (OAuth)"

    class RecordType(models.TextChoices):
        LEAD = "Lead", "Lead"
        CONTACT = "Contact", "Contact"
        PERSON_ACCOUNT = "PersonAccount", "Person Account"

    class EmailPrecedence(models.TextChoices):
        CONTACT_FIRST = "contact_first", "Contact first, then lead"
        LEAD_FIRST = "lead_first", "Lead first, then contact"
        MOST_RECENT = "most_recent", "Most recently modified record"

    name = models.CharField(max_length=100, default="Salesforce", unique=True)
    # Connection
    login_url = models.URLField(
        help_text="Where tokens come from, e.g. https://login.salesforce.com or the sandbox org."
    )
    instance_url = models.URLField(blank=True, help_text="Learned from the token response.")
    grant_type = models.CharField(max_length=30, choices=Grant.choices, default=Grant.PASSWORD)
    client_id = models.CharField("client id", max_length=255)
    client_secret = EncryptedTextField(blank=True)
    username = models.CharField(max_length=255, blank=True)
    password = EncryptedTextField(blank=True)
    api_version = models.CharField(max_length=8, default="62.0")
    ca_bundle = models.TextField(
        "CA bundle (PEM)",
        blank=True,
        help_text="Certificates to trust instead of the system's (a sandbox org, a corporate proxy).",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PAUSED)
    # Behaviour settings (see the Pardot connector settings reference)
    auto_create_prospects = models.BooleanField(
        default=False,
        help_text="Create a prospect when a lead or contact with a new email appears in Salesforce.",
    )
    auto_create_campaign = models.ForeignKey(
        "prospects.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="Campaign given to prospects created from Salesforce records.",
    )
    new_record_type = models.CharField(
        max_length=20,
        choices=RecordType.choices,
        default=RecordType.LEAD,
        help_text="What a new assigned prospect becomes in Salesforce.",
    )
    match_by_email = models.BooleanField(
        default=True,
        help_text="When a prospect has no CRM id, link it to an existing record with its email.",
    )
    email_precedence = models.CharField(
        max_length=20,
        choices=EmailPrecedence.choices,
        default=EmailPrecedence.CONTACT_FIRST,
        help_text="Which record wins when several share the prospect's email.",
    )
    auto_change_email = models.BooleanField(
        default=True,
        help_text="Change the prospect's email when it changes in Salesforce.",
    )
    delete_with_crm = models.BooleanField(
        "delete and merge with Salesforce",
        default=True,
        help_text="Archive prospects whose records are deleted; follow merges to the survivor.",
    )
    exclude_partner_users = models.BooleanField(
        default=True, help_text="Never assign prospects to partner or portal users."
    )
    person_accounts = models.BooleanField(
        "person account syncing", default=False, help_text="Sync prospects with Person Accounts."
    )
    sync_interval = models.PositiveIntegerField(
        "sync interval (seconds)",
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
        help_text="How often pending changes are pushed and Salesforce is polled (10–3600 s).",
    )
    batch_threshold = models.PositiveIntegerField(
        default=400,
        validators=[MinValueValidator(1)],
        help_text="Above this many pending prospects, changes go out in batches instead of at once.",
    )
    api_share = models.PositiveSmallIntegerField(
        "share of daily API calls (%)",
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The connector stops before using more than this share of the org's allocation.",
    )
    # Status, written by verification and the engine
    verified_at = models.DateTimeField(null=True, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="What verification found lost.")
    api_max = models.PositiveIntegerField(null=True, blank=True)
    api_remaining = models.PositiveIntegerField(null=True, blank=True)
    api_checked_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Set by the API budget governor."
    )
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConnectorManager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sync_interval__gte=10), name="sync_interval_at_least_10s"
            ),
            models.CheckConstraint(
                condition=Q(api_share__gte=1) & Q(api_share__lte=100), name="api_share_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never leak secrets into logs
        return f"<Connector {self.pk} {self.name} {self.state}>"

    @property
    def may_sync(self) -> bool:
        """Active, or needing attention for something other than its login: a lost field or
        object flags the connector but the rest keeps syncing (the lost part's refusals become
        access Sync Errors, as in Pardot). A failed login stops it until verification passes."""
        if self.state == self.State.ACTIVE:
            return True
        return self.state == self.State.NEEDS_ATTENTION and not any(
            problem.get("kind") == "auth" for problem in self.problems or []
        )


class FieldRuleQuerySet(models.QuerySet):
    def targeting(self, sobject: str, sf_field: str) -> "FieldRuleQuerySet":
        """Rules mapping a prospect field to ``sobject.sf_field`` (names are case-insensitive)."""
        column = FieldRule.column_for(sobject)
        if not column or not sf_field:
            return self.none()
        return self.filter(**{f"{column}__iexact": sf_field})


# Which FieldRule column names each object's target field (see ``FieldRule.column_for``).
RULE_COLUMNS = {
    "Lead": "lead_field",
    "Contact": "contact_field",
    "Account": "person_account_field",
    "PersonAccount": "person_account_field",
}


class FieldRule(models.Model):
    """How one prospect field maps to Lead/Contact/Person Account fields and which side wins."""

    class Behaviour(models.TextChoices):
        LEADBRIDGE = "leadbridge", "Use Leadbridge's value"
        SALESFORCE = "salesforce", "Use Salesforce's value"
        MOST_RECENT = "most_recent", "Use the most recently updated value"
        DONT_SYNC = "dont_sync", "Don't sync"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="field_rules")
    prospect_field = models.CharField(
        max_length=100, help_text="A Prospect field name, or custom:<api name> for a custom field."
    )
    lead_field = models.CharField(max_length=100, blank=True)
    contact_field = models.CharField(max_length=100, blank=True)
    person_account_field = models.CharField(max_length=100, blank=True)
    behaviour = models.CharField(
        max_length=20, choices=Behaviour.choices, default=Behaviour.LEADBRIDGE
    )
    salesforce_blanks_overwrite = models.BooleanField(
        default=False,
        help_text="Treat an empty Salesforce value as a real value that overwrites Leadbridge's.",
    )
    fixed = models.BooleanField(default=False, help_text="Set by Leadbridge; cannot be changed.")
    fixed_reason = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FieldRuleQuerySet.as_manager()

    class Meta:
        ordering = ["connector", "prospect_field"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "prospect_field"], name="one_rule_per_prospect_field"
            ),
            models.UniqueConstraint(
                fields=["connector", "lead_field"],
                condition=~Q(lead_field=""),
                name="lead_field_mapped_once",
            ),
            models.UniqueConstraint(
                fields=["connector", "contact_field"],
                condition=~Q(contact_field=""),
                name="contact_field_mapped_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prospect_field} → {self.lead_field or '-'} / {self.contact_field or '-'}"

    @staticmethod
    def column_for(sobject: str) -> str | None:
        """The column holding this rule's target field on ``sobject`` (``None``: not mapped).

        A person account is an ``Account`` to the engine and ``PersonAccount`` to the settings
        pages; both mean the person account column.
        """
        return RULE_COLUMNS.get(sobject)

    def target_field(self, sobject: str) -> str:
        """The Salesforce field this rule maps to on ``sobject`` ("" when none)."""
        column = self.column_for(sobject)
        return getattr(self, column) if column else ""


class DataSharingRule(models.Model):
    """Marketing Data Sharing: only records whose ``field`` equals ``value`` sync (one per object)."""

    class SObject(models.TextChoices):
        LEAD = "Lead", "Lead"
        CONTACT = "Contact", "Contact"
        OPPORTUNITY = "Opportunity", "Opportunity"
        CUSTOM = "custom", "Custom object"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="sharing_rules")
    sobject = models.CharField("object", max_length=100)
    field = models.CharField(max_length=100)
    value = models.CharField(max_length=255, help_text="Case-sensitive.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "sobject"], name="one_sharing_rule_per_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sobject}.{self.field} = {self.value!r}"


class ConnectorChange(models.Model):
    """History of every change to connector settings or a field rule: who, when, old → new."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(max_length=100, help_text="'settings', or the field rule changed.")
    field = models.CharField(max_length=100)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.subject}.{self.field}: {self.old!r} → {self.new!r}"


class SyncCursor(models.Model):
    """Inbound watermark per object: the last SystemModstamp applied."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="cursors")
    sobject = models.CharField(max_length=100)
    watermark = models.DateTimeField(null=True, blank=True)
    deleted_watermark = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "sobject"], name="one_cursor_per_object")
        ]

    def __str__(self) -> str:
        return f"{self.sobject} @ {self.watermark}"


class ErrorCategory(models.TextChoices):
    """The guide's four kinds of sync error (see sync/errors.py for the mapping from codes)."""

    DATA_FORMATTING = "data_formatting", "Data formatting"
    ACCESS = "access", "Access"
    PROCESS_ALIGNMENT = "process_alignment", "Process alignment"
    CUSTOMIZATION = "customization", "Customization"


MEMBER_SOBJECT = "CampaignMember"  # Sync Errors rows of campaign memberships


class SyncErrorQuerySet(models.QuerySet):
    def open(self) -> "SyncErrorQuerySet":
        return self.filter(resolved_at__isnull=True)


class SyncError(models.Model):
    """One record Salesforce refused, with what was sent and the constraint it broke.

    Repeats of the same refusal bump ``attempts`` and ``last_seen_at`` on the open row; a clean
    sync of the prospect resolves it (``resolved_at``, ``resolution``).
    """

    class Resolution(models.TextChoices):
        CLEAN_SYNC = "clean_sync", "Cleared by a clean sync"
        MANUAL = "manual", "Dismissed by a user"
        PROSPECT_DELETED = "prospect_deleted", "Prospect deleted"

    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="errors"
    )
    prospect = models.ForeignKey(
        "prospects.Prospect",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sync_errors",
    )
    prospect_email = models.CharField(max_length=255, blank=True)
    # A refused CampaignMember write (sobject "CampaignMember") names its membership: it is
    # resynced and cleared with the membership, never by the prospect's own clean sync.
    campaign_membership = models.ForeignKey(
        "crm.CampaignMembership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sync_errors",
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    operation = models.CharField(max_length=20, help_text="create, update, upsert, delete, query")
    sobject = models.CharField("object", max_length=100, blank=True)
    record_id = models.CharField(max_length=18, blank=True)
    error_code = models.CharField(max_length=100, db_index=True)
    category = models.CharField(max_length=20, choices=ErrorCategory.choices, db_index=True)
    message = models.TextField()
    field = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="The first field Salesforce named."
    )
    fields = models.JSONField(default=list, blank=True)
    value_sent = models.TextField(blank=True)
    constraint = models.TextField(blank=True, help_text="The rule broken, from describe.")
    attempts = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)

    objects = SyncErrorQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        indexes = [
            models.Index(
                fields=["resolved_at", "category", "-last_seen_at"], name="syncerror_open_cat"
            ),
            models.Index(fields=["resolved_at", "-last_seen_at"], name="syncerror_open_recent"),
            models.Index(fields=["prospect", "resolved_at"], name="syncerror_prospect_open"),
            # The Sync Errors page's object filter (issue 7): counts without a table scan.
            models.Index(fields=["resolved_at", "sobject"], name="syncerror_open_object"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["prospect", "error_code", "field"],
                condition=Q(resolved_at__isnull=True) & ~Q(sobject=MEMBER_SOBJECT),
                name="one_open_error_per_prospect_code_field",
            ),
            models.UniqueConstraint(
                fields=["campaign_membership", "error_code", "field"],
                condition=Q(resolved_at__isnull=True) & Q(sobject=MEMBER_SOBJECT),
                name="one_open_error_per_membership_code_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.error_code} on {self.prospect_email or self.record_id}"


class SObjectDescribe(models.Model):
    """A cached ``sobjects/{name}/describe`` result, as the connector user sees it.

    Shared by web and worker processes; verification refreshes it (see ``sync/describe.py``).
    """

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="describes")
    sobject = models.CharField("object", max_length=100)
    data = models.JSONField()
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "sobject"], name="one_describe_per_object")
        ]

    def __str__(self) -> str:
        return f"{self.sobject} describe @ {self.fetched_at}"

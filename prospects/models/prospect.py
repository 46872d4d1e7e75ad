"""Prospects: the people marketers capture and work, kept in step with Salesforce."""

import datetime
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils import timezone

from core.indexes import PrefixIndex, TrigramIndex
from prospects.validators import WebsiteField

# A custom field's name wherever prospect fields are named (field rules, forms, CSV columns):
# ``custom:<api name>``, its value kept in ``Prospect.custom_fields[<api name>]``.
CUSTOM_PREFIX = "custom:"
# Multi-select values are stored as Salesforce writes them, "a;b" (see ``custom_value``).
MULTI_SEPARATOR = ";"
TEXT_TYPES = frozenset({"CharField", "TextField", "EmailField", "URLField"})


class CrmStatus(models.TextChoices):
    """Where a prospect stands with Salesforce, derived from its CRM ids (see ``crm_status``)."""

    NOT_SYNCED = "not_synced", "Not in CRM"
    LEAD = "lead", "Lead"
    CONTACT = "contact", "Contact"


class SyncStatus(models.TextChoices):
    """The prospect's sync state as the UI shows it (the queue row is the source of truth)."""

    NOT_SYNCED = "not_synced", "Not synced"
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    WAITING_ASSIGNMENT = "waiting_assignment", "Not synced: waiting for assignment"
    ERROR = "error", "Sync error"
    DO_NOT_SYNC = "do_not_sync", "Do not sync"


class Grade(models.TextChoices):
    A_PLUS = "A+", "A+"
    A = "A", "A"
    A_MINUS = "A-", "A-"
    B_PLUS = "B+", "B+"
    B = "B", "B"
    B_MINUS = "B-", "B-"
    C_PLUS = "C+", "C+"
    C = "C", "C"
    C_MINUS = "C-", "C-"
    D_PLUS = "D+", "D+"
    D = "D", "D"
    D_MINUS = "D-", "D-"
    F = "F", "F"


SEARCH_FIELDS = ("email", "first_name", "last_name", "company")


def search_text() -> Lower:
    """What a prospect search looks in: the searched fields, lower-cased and joined by spaces.
    A word has no space, so it matches within one field, as a search of each would."""
    joined = []
    for name in SEARCH_FIELDS:
        joined += [models.F(name), models.Value(" ")]
    return Lower(Concat(*joined[:-1], output_field=models.TextField()))


class ProspectQuerySet(models.QuerySet):
    def active(self) -> "ProspectQuerySet":
        return self.filter(archived_at__isnull=True)

    def with_crm_status(self, status: str) -> "ProspectQuerySet":
        if status == CrmStatus.CONTACT:
            return self.exclude(crm_contact_id="")
        if status == CrmStatus.LEAD:
            return self.filter(crm_contact_id="").exclude(crm_lead_id="")
        if status == CrmStatus.NOT_SYNCED:
            return self.filter(crm_contact_id="", crm_lead_id="")
        return self

    def search(self, text: str) -> "ProspectQuerySet":
        """Prospects whose email, first or last name or company contains every word (up to
        five), in any case. On PostgreSQL a trigram index answers it (``prospect_search_idx``):
        a search of a million prospects reads only the rows that hold its words."""
        words = text.lower().split()[:5]
        if not words:
            return self
        query = Q()
        for word in words:
            query &= Q(search_text__contains=word)
        return self.alias(search_text=search_text()).filter(query)


class Campaign(models.Model):
    """A Leadbridge campaign (the prospect's first-touch source, synced as ``pi__campaign__c``)."""

    name = models.CharField(max_length=255, unique=True)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrmQueue(models.Model):
    """A Salesforce lead/contact queue (``Group`` of type ``Queue``) a prospect can be assigned to.

    Read from Salesforce by the connector; a prospect assigned to a queue is created in
    Salesforce owned by that queue, and a record Salesforce moves to a queue comes back here so.
    """

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    name = models.CharField(max_length=255)
    developer_name = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CRM queue"

    def __str__(self) -> str:
        return self.name


class Prospect(models.Model):
    """A person in the marketing database, with Pardot's standard fields and CRM bookkeeping.

    Several prospects may share an email (Pardot's AMPSEA): each is matched to its own Lead or
    Contact by CRM id, so email is indexed but not unique.
    """

    # Identity
    salutation = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=40, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(max_length=255, db_index=True)
    # Company
    company = models.CharField(max_length=255, blank=True)
    website = WebsiteField(max_length=255, blank=True)
    job_title = models.CharField(max_length=128, blank=True)
    department = models.CharField(max_length=80, blank=True)
    industry = models.CharField(max_length=80, blank=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    years_in_business = models.PositiveSmallIntegerField(null=True, blank=True)
    # Contact details
    phone = models.CharField(max_length=40, blank=True)
    fax = models.CharField(max_length=40, blank=True)
    address_one = models.CharField("address line 1", max_length=255, blank=True)
    address_two = models.CharField("address line 2", max_length=255, blank=True)
    city = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=80, blank=True)
    zip = models.CharField("ZIP / postal code", max_length=20, blank=True)
    country = models.CharField(max_length=80, blank=True)
    territory = models.CharField(max_length=80, blank=True)
    # Marketing
    source = models.CharField(max_length=40, blank=True)
    comments = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    score = models.IntegerField(default=0)
    grade = models.CharField(max_length=2, choices=Grade.choices, blank=True)
    # The profile that grades this prospect; empty, the default profile does.
    # Indexed by prospect_grading_profile_idx (set ones only), as campaign and assigned_queue.
    grading_profile = models.ForeignKey(
        "prospects.GradingProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospects",
        db_index=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospects",
        db_index=False,
    )
    opted_out = models.BooleanField(default=False)
    do_not_email = models.BooleanField(default=False)
    do_not_call = models.BooleanField(default=False)
    do_not_sync = models.BooleanField(
        default=False, help_text="Never send this prospect to Salesforce."
    )
    # Indexed by prospect_assigned_user_idx (assigned_user first).
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_prospects",
        db_index=False,
    )
    # Assigned to a Salesforce queue instead of a user (Pardot's "assign to queue").
    assigned_queue = models.ForeignKey(
        CrmQueue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospects",
        db_index=False,
    )
    # Admin-defined custom fields, keyed by the custom field's API name.
    custom_fields = models.JSONField(default=dict, blank=True)
    # Timestamps
    # Indexed by prospect_active_created_idx (prospects not archived: the list's order and count).
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # CRM bookkeeping (18-character Salesforce ids)
    crm_lead_id = models.CharField("CRM lead id", max_length=18, blank=True, db_index=True)
    crm_contact_id = models.CharField("CRM contact id", max_length=18, blank=True, db_index=True)
    crm_account_id = models.CharField("CRM account id", max_length=18, blank=True)
    crm_owner_id = models.CharField("CRM owner id", max_length=18, blank=True)
    # Linked to a person account: crm_account_id is the Account, crm_contact_id its person contact.
    crm_person_account = models.BooleanField("CRM person account", default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Written to the package's external-id field on create, so a retried create upserts the same
    # record. A UUID, not the pk: pks repeat across databases (a reset demo, a restored backup).
    sync_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Not indexed, so a push or pull that moves it (pending -> synced) can be a HOT update: see
    # prospects/migrations/0015_hot_sync_writes.py.
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, default=SyncStatus.NOT_SYNCED
    )
    # When the linked record last changed in Salesforce, as the last pull read it. A push
    # compares it under the row lock to know whether a pull landed meanwhile. (No copy of the
    # record's values is kept: every push reads the record afresh and sends only what differs,
    # and each sync's history keeps the fields it moved, old and new. Such a copy cost a third
    # of a pull's work and over a quarter of an edit push's: prospects 0017.)
    crm_modified_at = models.DateTimeField(null=True, blank=True)
    # When each prospect field last changed here (field name -> ISO timestamp), for the
    # "most recently updated value wins" rule.
    field_changed_at = models.JSONField(default=dict, blank=True)

    objects = ProspectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="prospect_name_idx"),
            models.Index(fields=["company"], name="prospect_company_idx"),
            models.Index(fields=["score"], name="prospect_score_idx"),
            # The prospect list: its default order, and its count read from the index alone (a
            # million rows' count was a scan of the whole table, most of the page's time).
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(archived_at__isnull=True),
                name="prospect_active_created_idx",
            ),
            # A push or pull of a linked prospect is a HOT update (no index written; see
            # prospects 0015), but anything else that rewrites the row adds an entry to each
            # index whose condition the row meets. The optional links, NULL on most rows, are
            # indexed only where set: every lookup by one (=, IN, a join, the foreign-key
            # checks) implies IS NOT NULL. Only a list criterion "is empty" asks for NULL, and
            # it matches most rows: a table scan anyway.
            models.Index(
                fields=["assigned_user", "-created_at"],
                condition=Q(assigned_user__isnull=False),
                name="prospect_assigned_user_idx",
            ),
            models.Index(
                fields=["assigned_queue"],
                condition=Q(assigned_queue__isnull=False),
                name="prospect_assigned_queue_idx",
            ),
            models.Index(
                fields=["campaign"],
                condition=Q(campaign__isnull=False),
                name="prospect_campaign_idx",
            ),
            models.Index(
                fields=["grading_profile"],
                condition=Q(grading_profile__isnull=False),
                name="prospect_grading_profile_idx",
            ),
            # Intake matches emails without regard to case (Pardot's rule), and member lists
            # filter by an email's start: one index on lower(email) answers both (=, LIKE 'x%').
            PrefixIndex(Lower("email"), name="prospect_email_ci_prefix_idx"),
            # The list's search box ("contains", any case) over a million prospects.
            TrigramIndex(search_text(), name="prospect_search_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=-100000) & Q(score__lte=1000000), name="score_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_absolute_url(self) -> str:
        return reverse("prospects:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def crm_status(self) -> str:
        if self.crm_contact_id:
            return CrmStatus.CONTACT
        if self.crm_lead_id:
            return CrmStatus.LEAD
        return CrmStatus.NOT_SYNCED

    @property
    def crm_id(self) -> str:
        """The record this prospect syncs with: its contact once converted, else its lead."""
        return self.crm_contact_id or self.crm_lead_id

    def get_crm_status_display(self) -> str:
        return CrmStatus(self.crm_status).label

    def get_field(self, name: str) -> Any:
        """The stored value of a prospect field by name: a model field, or ``custom:<api name>``
        (``None`` when the custom field holds nothing)."""
        if name.startswith(CUSTOM_PREFIX):
            return (self.custom_fields or {}).get(name.removeprefix(CUSTOM_PREFIX))
        return getattr(self, name)

    def set_field(
        self,
        name: str,
        value: Any,
        *,
        definitions: Mapping[str, "CustomField"] | None = None,
    ) -> None:
        """Set a prospect field by name, in the one shape it is stored in.

        Every writer (the edit form, the Sync Errors fix and CSV re-import, the pull) comes
        through here, so a value is stored the same way whoever writes it:
        1. Blanks become the field's blank ("" for text, ``None`` where allowed, else the
           default); a custom field holding a blank is removed.
        2. Text is cut to the field's length (the forms refuse longer values; only Salesforce's
           values, which cannot be refused, are ever cut).
        3. A custom field's value takes its type's stored form (``custom_value``).

        ``definitions`` (api name → CustomField) spares a query per custom field when many are
        written; raises ValidationError for a value the model field cannot hold.
        """
        if name.startswith(CUSTOM_PREFIX):
            key = name.removeprefix(CUSTOM_PREFIX)
            definition = (
                definitions.get(key)
                if definitions is not None
                else CustomField.objects.filter(api_name=key).first()
            )
            stored = custom_value(definition, value)
            values = {k: v for k, v in (self.custom_fields or {}).items() if k != key}
            self.custom_fields = values if stored is None else {**values, key: stored}
            return
        model_field = self._meta.get_field(name)
        if model_field.is_relation:
            setattr(self, name, value)
            return
        setattr(self, model_field.attname, _model_value(model_field, value))

    def stamp_changes(self, fields: Iterable[str], at: datetime.datetime | None = None) -> None:
        """Record when these fields last changed here (the "most recent value wins" rule)."""
        stamp = (at or timezone.now()).isoformat()
        self.field_changed_at = {**(self.field_changed_at or {}), **dict.fromkeys(fields, stamp)}


def _model_value(model_field: models.Field, value: Any) -> Any:
    internal = model_field.get_internal_type()
    if value is None or value == "":
        if internal in TEXT_TYPES:
            return ""
        return None if model_field.null else model_field.get_default()
    if internal in TEXT_TYPES:
        return str(value)[: model_field.max_length] if model_field.max_length else str(value)
    if internal == "BooleanField":
        return bool(value)
    return model_field.to_python(value)


class CustomField(models.Model):
    """A prospect field defined by a Sync admin; values live in ``Prospect.custom_fields``.

    Values are stored as JSON scalars: text, numbers as text ("12.50"), dates as ISO text,
    checkboxes as booleans, and multi-select values as Salesforce writes them, "a;b". One
    string rather than a list: it is the wire format in both directions, so a value reads,
    compares, exports to CSV and goes to Salesforce the same way without knowing the field's
    type, and Salesforce forbids ";" inside a picklist value, so nothing is ambiguous.
    """

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        TEXTAREA = "textarea", "Text area"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHECKBOX = "checkbox", "Checkbox"
        DROPDOWN = "dropdown", "Dropdown"
        MULTI_SELECT = "multi_select", "Multi-select"

    label = models.CharField(max_length=100)
    api_name = models.SlugField(
        "API name", max_length=100, unique=True, help_text="Letters, digits and underscores."
    )
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(
        default=list, blank=True, help_text="Predefined values (dropdown, multi-select)."
    )
    validate_on_import = models.BooleanField(
        default=False, help_text="Refuse imported values that are not among the predefined ones."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # The longest value each text-like type holds: a text field is a Salesforce text field
    # (255), a text area a Salesforce long text area (its default length, 32,768).
    MAX_LENGTH = {Type.TEXT: 255, Type.DROPDOWN: 255, Type.TEXTAREA: 32768}

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    @property
    def max_length(self) -> int | None:
        return self.MAX_LENGTH.get(self.type)

    @property
    def prospect_field(self) -> str:
        """This field's name among prospect fields (field rules, forms, CSV columns)."""
        return CUSTOM_PREFIX + self.api_name

    def split(self, stored: Any) -> list[str]:
        """A stored multi-select value as its list of items ("a;b" → ["a", "b"])."""
        if stored in (None, ""):
            return []
        items = stored if isinstance(stored, list | tuple) else str(stored).split(MULTI_SEPARATOR)
        return [str(item).strip() for item in items if str(item).strip()]


def custom_value(definition: CustomField | None, value: Any) -> Any:
    """The stored form of a custom field's value; ``None`` means "holds nothing".

    Lists (the form's multi-select) join as "a;b"; numbers become text; text is cut to the
    type's length. Without a definition (a deleted field) the value is kept as given.
    """
    if value is None or value == "" or value == [] or value == ():
        return None
    if isinstance(value, list | tuple):
        return MULTI_SEPARATOR.join(str(v).strip() for v in value if str(v).strip()) or None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if definition is None:
        return value
    if definition.type == CustomField.Type.MULTI_SELECT:
        return MULTI_SEPARATOR.join(definition.split(value)) or None
    limit = definition.max_length
    return str(value)[:limit] if limit else value


SCORE_VALIDATORS = [MinValueValidator(-100000), MaxValueValidator(1000000)]

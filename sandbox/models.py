"""The sandbox org's storage: orgs, metadata, security, rules and records.

Records of every object live in one ``Record`` table: the field values are a JSON object (values
already in Salesforce's wire form), and the fields queries filter on most — Email, the external
id, OwnerId, IsDeleted, SystemModstamp — are copied into indexed columns so those queries never
scan the table. Metadata (objects, fields, rules, permissions) is ordinary rows, editable in the
Django admin; every metadata save bumps ``Org.meta_version`` so serving processes reload it.
"""

from django.db import models
from django.db.models import F


class Org(models.Model):
    """A Salesforce org (``00D`` id) with its org-wide settings."""

    id = models.CharField(max_length=18, primary_key=True)
    name = models.CharField(max_length=80, unique=True)
    daily_api_limit = models.PositiveIntegerField(default=115_000)
    session_idle_seconds = models.PositiveIntegerField(default=7200)
    state_country_picklists = models.BooleanField(default=True)
    meta_version = models.PositiveBigIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.name


def bump_meta_version(org_id: str) -> None:
    """Tell serving processes that the org's metadata changed."""
    Org.objects.filter(pk=org_id).update(meta_version=F("meta_version") + 1)


class MetadataModel(models.Model):
    """Base for metadata rows: saving or deleting one invalidates cached metadata."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        bump_meta_version(self.org_id_for_cache())

    def delete(self, *args, **kwargs):
        org_id = self.org_id_for_cache()
        result = super().delete(*args, **kwargs)
        bump_meta_version(org_id)
        return result

    def org_id_for_cache(self) -> str:
        raise NotImplementedError


class SharingModel(models.TextChoices):
    READ_WRITE = "ReadWrite", "Public Read/Write"
    READ = "Read", "Public Read Only"
    PRIVATE = "Private", "Private"


class SObject(MetadataModel):
    """An object type (Lead, Contact, Subscription__c …) and its org-wide sharing default."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sobjects")
    name = models.CharField(max_length=80)
    label = models.CharField(max_length=80)
    label_plural = models.CharField(max_length=80)
    key_prefix = models.CharField(max_length=3)
    custom = models.BooleanField(default=False)
    sharing_model = models.CharField(
        max_length=10, choices=SharingModel.choices, default=SharingModel.READ_WRITE
    )
    queryable_only = models.BooleanField(default=False, help_text="Read-only system object.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="one_sobject_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def org_id_for_cache(self) -> str:
        return self.org_id


class FieldType(models.TextChoices):
    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    REFERENCE = "reference"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    ADDRESS = "address"


class Field(MetadataModel):
    """A field of an object, with Salesforce's describe properties."""

    sobject = models.ForeignKey(SObject, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=80)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=16, choices=FieldType.choices)
    length = models.PositiveIntegerField(default=0)
    precision = models.PositiveIntegerField(default=0)
    scale = models.PositiveIntegerField(default=0)
    nillable = models.BooleanField(default=True)
    createable = models.BooleanField(default=True)
    updateable = models.BooleanField(default=True)
    defaulted_on_create = models.BooleanField(default=False)
    default_value = models.JSONField(null=True, blank=True)
    calculated = models.BooleanField(default=False)
    unique = models.BooleanField(default=False)
    external_id = models.BooleanField(default=False)
    custom = models.BooleanField(default=False)
    restricted_picklist = models.BooleanField(default=False)
    picklist_values = models.JSONField(default=list, blank=True)
    reference_to = models.JSONField(default=list, blank=True)
    relationship_name = models.CharField(max_length=80, blank=True, default="")
    name_field = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sobject", "name"], name="one_field_name")]
        ordering = ["sobject", "id"]

    def __str__(self) -> str:
        return f"{self.sobject.name}.{self.name}"

    def org_id_for_cache(self) -> str:
        return self.sobject.org_id


class Profile(MetadataModel):
    """A profile (``00e``): system permissions; object and field permissions hang off it."""

    id = models.CharField(max_length=18, primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=80)
    view_all_data = models.BooleanField(default=False)
    modify_all_data = models.BooleanField(default=False)
    edit_converted_leads = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name

    def org_id_for_cache(self) -> str:
        return self.org_id


class ObjectPermission(MetadataModel):
    """CRUD on one object for a profile. No row means full access."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="object_perms")
    sobject = models.ForeignKey(SObject, on_delete=models.CASCADE)
    can_read = models.BooleanField(default=True)
    can_create = models.BooleanField(default=True)
    can_edit = models.BooleanField(default=True)
    can_delete = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "sobject"], name="one_object_perm")
        ]

    def org_id_for_cache(self) -> str:
        return self.profile.org_id


class FieldPermission(MetadataModel):
    """Field-level security for a profile. No row means readable and editable."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="field_perms")
    field = models.ForeignKey(Field, on_delete=models.CASCADE)
    readable = models.BooleanField(default=True)
    editable = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "field"], name="one_field_perm")]

    def org_id_for_cache(self) -> str:
        return self.profile.org_id


class ValidationRule(MetadataModel):
    """A declarative validation rule: when its conditions hold, the save fails.

    ``conditions`` is a list of ``{"field", "op", "value"}`` with op one of ``blank``,
    ``not_blank``, ``equals``, ``not_equals``, ``not_matching`` (a regex) and ``longer_than``;
    ``match`` says whether all or any must hold.
    """

    sobject = models.ForeignKey(SObject, on_delete=models.CASCADE, related_name="validation_rules")
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=list)
    match = models.CharField(
        max_length=3, choices=[("all", "All conditions"), ("any", "Any condition")], default="all"
    )
    on_create = models.BooleanField(default=True)
    on_update = models.BooleanField(default=True)
    error_message = models.CharField(max_length=255)
    error_field = models.CharField(max_length=80, blank=True, default="")

    def __str__(self) -> str:
        return self.name

    def org_id_for_cache(self) -> str:
        return self.sobject.org_id


class TriggerRule(MetadataModel):
    """A declarative stand-in for an Apex trigger that throws: when its conditions hold, the save
    fails with CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, worded as an unhandled trigger exception.

    ``conditions`` and ``match`` work as on ``ValidationRule``. ``exception_message`` may name
    fields in braces (``{Company}``), filled from the record being saved.
    """

    sobject = models.ForeignKey(SObject, on_delete=models.CASCADE, related_name="trigger_rules")
    name = models.CharField(max_length=80, help_text="The trigger's name, e.g. LeadTrigger.")
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=list)
    match = models.CharField(
        max_length=3, choices=[("all", "All conditions"), ("any", "Any condition")], default="all"
    )
    on_create = models.BooleanField(default=True, help_text="Fires in BeforeInsert.")
    on_update = models.BooleanField(default=True, help_text="Fires in BeforeUpdate.")
    exception_type = models.CharField(max_length=80, default="System.DmlException")
    exception_message = models.CharField(max_length=500)
    line = models.PositiveIntegerField(default=1, help_text="Line reported in the stack trace.")

    def __str__(self) -> str:
        return self.name

    def org_id_for_cache(self) -> str:
        return self.sobject.org_id


class DuplicateRule(MetadataModel):
    """A duplicate rule: records whose match fields equal (case-insensitively) are duplicates."""

    sobject = models.ForeignKey(SObject, on_delete=models.CASCADE, related_name="duplicate_rules")
    name = models.CharField(max_length=80)
    match_rule = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    match_fields = models.JSONField(default=list)
    action = models.CharField(
        max_length=5, choices=[("block", "Block"), ("allow", "Allow with alert")], default="block"
    )
    alert_text = models.CharField(max_length=255, default="Use one of these records?")

    def __str__(self) -> str:
        return self.name

    def org_id_for_cache(self) -> str:
        return self.sobject.org_id


class OrgUser(models.Model):
    """A user's login and security settings; the User record itself is a ``Record``."""

    id = models.CharField(max_length=18, primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="users")
    username = models.CharField(max_length=80, unique=True)
    password = models.CharField(max_length=128)
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT)
    business_unit = models.CharField(max_length=40, default="A")
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.username


class QueueMember(models.Model):
    """Membership of a user in a queue (a ``00G`` Group record of Type 'Queue')."""

    queue_id = models.CharField(max_length=18, db_index=True)
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE, related_name="queues")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue_id", "user"], name="one_membership")]


class ConnectedApp(models.Model):
    """An OAuth client (consumer key and secret)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="apps")
    name = models.CharField(max_length=80)
    client_id = models.CharField(max_length=255, unique=True)
    client_secret = models.CharField(max_length=255)
    run_as = models.ForeignKey(
        OrgUser,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="User for the client_credentials flow.",
    )

    def __str__(self) -> str:
        return self.name


class AccessToken(models.Model):
    """An issued session; ``last_used_at`` drives idle expiry."""

    token = models.CharField(max_length=120, primary_key=True)
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE, related_name="tokens")
    app = models.ForeignKey(ConnectedApp, null=True, on_delete=models.SET_NULL)
    refresh_token = models.CharField(max_length=120, blank=True, default="", db_index=True)
    issued_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)


class Record(models.Model):
    """One record of any object; ``data`` holds every field in wire form."""

    id = models.CharField(max_length=18, primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="records")
    sobject = models.CharField(max_length=80)
    data = models.JSONField()
    owner_id = models.CharField(max_length=18, blank=True, default="")
    email = models.CharField(max_length=255, blank=True, default="")
    ext_id = models.CharField(max_length=255, blank=True, default="")
    is_deleted = models.BooleanField(default=False)
    system_modstamp = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "sobject", "id"], name="rec_obj_id"),
            models.Index(fields=["org", "sobject", "system_modstamp"], name="rec_modstamp"),
            models.Index(fields=["org", "sobject", "email"], name="rec_email"),
            models.Index(fields=["org", "sobject", "ext_id"], name="rec_ext_id"),
            models.Index(fields=["org", "sobject", "owner_id"], name="rec_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.id}"


class JobState(models.TextChoices):
    OPEN = "Open"
    UPLOAD_COMPLETE = "UploadComplete"
    IN_PROGRESS = "InProgress"
    JOB_COMPLETE = "JobComplete"
    FAILED = "Failed"
    ABORTED = "Aborted"


class BulkJob(models.Model):
    """A Bulk API 2.0 ingest or query job; its CSV data and results are files (see bulk.py)."""

    id = models.CharField(max_length=18, primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="bulk_jobs")
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE)
    job_type = models.CharField(max_length=10)  # V2Ingest / V2Query
    operation = models.CharField(max_length=12)
    sobject = models.CharField(max_length=80)
    external_id_field = models.CharField(max_length=80, blank=True, default="")
    query = models.TextField(blank=True, default="")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.OPEN)
    column_delimiter = models.CharField(max_length=10, default="COMMA")
    line_ending = models.CharField(max_length=4, default="LF")
    api_version = models.CharField(max_length=6, default="59.0")
    created_date = models.DateTimeField()
    system_modstamp = models.DateTimeField()
    records_processed = models.PositiveIntegerField(default=0)
    records_failed = models.PositiveIntegerField(default=0)
    uploaded_bytes = models.PositiveBigIntegerField(default=0)
    processing_ms = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_date"]

    def __str__(self) -> str:
        return f"{self.job_type} {self.operation} {self.sobject} {self.id}"


class FaultConfig(models.Model):
    """Faults the org injects, deterministic under ``seed`` (see sandbox/faults.py)."""

    org = models.OneToOneField(Org, on_delete=models.CASCADE, related_name="faults")
    seed = models.PositiveIntegerField(default=1)
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0, help_text="Share of API calls answered 5xx.")
    error_status = models.PositiveIntegerField(default=503, help_text="500 or 503.")
    lock_rate = models.FloatField(
        default=0.0, help_text="Share of record writes that fail UNABLE_TO_LOCK_ROW."
    )
    drop_rate = models.FloatField(
        default=0.0, help_text="Share of API calls whose connection is dropped without an answer."
    )
    drop_after_rate = models.FloatField(
        default=0.0,
        help_text="Share of API calls whose connection is dropped after the org did the work "
        "(committed, but the answer is lost).",
    )
    outage_until = models.DateTimeField(
        null=True, blank=True, help_text="Every API call fails until then."
    )
    version = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return f"Faults for {self.org}"

    def save(self, *args, **kwargs) -> None:
        self.version += 1
        super().save(*args, **kwargs)


class ValueLock(models.Model):
    """A row per external-id or unique value being written, inserted at the start of a write's
    transaction and deleted before it commits (``records._lock_values``): a concurrent write
    of the same value waits on the row until the first commits, as Salesforce serialises two
    upserts of one value, while writes of other values go side by side. Row locks live in the
    rows, not in PostgreSQL's finite lock table, so a 2,000-row chunk takes 2,000 of them.
    UNLOGGED on PostgreSQL (its rows never outlive a transaction); unused on SQLite."""

    key = models.BigIntegerField(primary_key=True)

"""What the API reads and writes. Reads come straight from the models; writes are validated
here (types, lengths, choices, unknown fields) and then go through ``api.writes``."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from api.campaigns import (
    CAMPAIGN_FIELDS,
    campaign_options,
    check_salesforce_campaign,
    member_status_field,
    salesforce_campaign_field,
)
from api.fields import FIELD_MAPPING, StrictRegexField
from intake.models import Import
from intake.writes import WRITABLE
from prospects.forms import assignable_users, custom_form_field
from prospects.models import (
    CUSTOM_PREFIX,
    SCORE_VALIDATORS,
    Campaign,
    CrmQueue,
    CustomField,
    Prospect,
)
from sync.models import SyncError

MAX_DB_ID = 2**63 - 1
# What a row may write (the write core's list: the edit page's fields less those set only on
# creation or on the prospect page).
WRITABLE_FIELDS = list(WRITABLE)
# Given when a prospect is created (the write core's options), read-only afterwards.
ON_CREATE_FIELDS = ["campaign", "assigned_user", "assigned_queue"]
READ_ONLY_FIELDS = [
    "id",
    *ON_CREATE_FIELDS,
    "do_not_sync",
    "crm_lead_id",
    "crm_contact_id",
    "crm_account_id",
    "crm_status",
    "sync_status",
    "sync_errors",
    "last_synced_at",
    "created_at",
    "updated_at",
    "last_activity_at",
    "archived_at",
]


class IdField(serializers.PrimaryKeyRelatedField):
    """A related row by id; an id no database column can hold is "not found", not a crash."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or not 0 < data <= MAX_DB_ID:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class FormIdField(IdField):
    """An id in a multipart form, where every value is text."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit() and len(data) < 20:
            data = int(data)
        return super().to_internal_value(data)


class StrictMixin:
    """Refuse fields the serializer does not take, naming each: a typo ("frist_name") must
    not be dropped silently, and read-only fields are not writable by being sent."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {
                str(name): ["Read-only field." if name in self.fields else "Unknown field."]
                for name in data
                if name not in writable
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class SyncErrorBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncError
        fields = ["id", "category", "error_code", "field", "message"]


class CustomFieldsField(serializers.DictField):
    """``{"<api name>": value}``: each value checked as the custom field's type (a number, an
    ISO date, true/false, one of a dropdown's values, a list or "a;b" for a multi-select)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not hasattr(self, "_definitions"):  # once per request, however many rows
            self._definitions = {c.api_name: c for c in CustomField.objects.all()}
        definitions = self._definitions
        errors, values = {}, {}
        for name, value in data.items():
            custom = definitions.get(name)
            if custom is None:
                errors[name] = ["Unknown custom field."]
                continue
            try:
                values[name] = clean_custom(custom, value)
            except forms.ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise serializers.ValidationError(errors)
        return values


def clean_custom(custom: CustomField, value: Any) -> Any:
    """A custom field's value checked by the edit page's own form field."""
    if value is None or value == "":
        return None
    if custom.type == CustomField.Type.MULTI_SELECT and isinstance(value, str):
        value = custom.split(value)
    if not isinstance(value, str | int | float | bool | list) or (
        isinstance(value, list) and not all(isinstance(item, str) for item in value)
    ):
        raise forms.ValidationError("Not a value this field can hold.")
    if isinstance(value, list) and custom.type != CustomField.Type.MULTI_SELECT:
        raise forms.ValidationError("One value expected, not a list.")
    return custom_form_field(custom).clean(value)


class ProspectSerializer(StrictMixin, serializers.ModelSerializer):
    """A prospect as the API shows it, and the fields a PATCH may change. ``sync_errors``
    lists its open Sync Errors; ``crm_status`` and ``sync_status`` say where it stands with
    Salesforce. Assignment and campaign are given at creation; later they change on the
    prospect page (they decide which Salesforce record and owner it syncs to)."""

    custom_fields = CustomFieldsField(required=False, child=serializers.JSONField())
    crm_status = serializers.CharField(read_only=True)
    sync_errors = SyncErrorBriefSerializer(many=True, read_only=True, source="open_errors")
    salesforce_campaign = salesforce_campaign_field()
    campaign_member_status = member_status_field()

    serializer_field_mapping = FIELD_MAPPING

    class Meta:
        model = Prospect
        fields = [
            "id",
            *WRITABLE_FIELDS,
            "custom_fields",
            *[name for name in READ_ONLY_FIELDS if name != "id"],
            *CAMPAIGN_FIELDS,
        ]
        read_only_fields = READ_ONLY_FIELDS
        extra_kwargs = {
            "score": {"validators": SCORE_VALIDATORS},
            "annual_revenue": {"coerce_to_string": False},
        }

    def values(self, validated: dict[str, Any] | None = None) -> dict[str, Any]:
        """The validated values (this serializer's, or a row's validated by it) as
        ``write_prospects`` takes them: custom fields as ``custom:<api name>``, the match key
        ``crm_id``, without the options given at creation."""
        validated = self.validated_data if validated is None else validated
        values = {name: value for name, value in validated.items() if name in WRITABLE_FIELDS}
        customs = validated.get("custom_fields") or {}
        values.update({CUSTOM_PREFIX + name: value for name, value in customs.items()})
        if crm_id := validated.get("crm_id"):
            values["crm_id"] = crm_id
        return values

    def validate(self, attrs):
        return check_salesforce_campaign(super().validate(attrs))

    def campaign_options(self) -> dict[str, Any]:
        """``salesforce_campaign``, ``campaign_member_status``: the campaign to add it to."""
        return campaign_options(self.validated_data)

    def to_representation(self, instance) -> dict[str, Any]:
        """DRF's representation, computed faster: plain columns are read as they are (a page
        of 100 prospects with ~45 fields each is most of a list request's time otherwise)."""
        return {name: read(instance) for name, read in self._readers()}

    def _readers(self) -> list[tuple[str, Any]]:
        """Built once per serializer class (the fields' representation does not depend on the
        request), so a list request never builds the serializer's fields at all."""
        cls = type(self)
        if "_class_readers" not in cls.__dict__:
            cls._class_readers = [
                (field.field_name, _reader(field)) for field in self._readable_fields
            ]
        return cls._class_readers

    def on_create(self) -> dict[str, Any]:
        """``assign_user``, ``assign_queue``, ``campaign``: for a prospect this creates."""
        data = self.validated_data
        return {
            "assign_user": data.get("assigned_user"),
            "assign_queue": data.get("assigned_queue"),
            "campaign": data.get("campaign"),
        }


PLAIN = (
    serializers.CharField,
    serializers.BooleanField,
    serializers.IntegerField,
    serializers.ChoiceField,
    serializers.DictField,
)


def _reader(field: serializers.Field):
    """How to read one field of a prospect for its representation, as DRF would answer."""
    source = field.source
    if isinstance(field, serializers.ListSerializer):  # the open Sync Errors, prefetched
        return lambda instance: [
            {"id": e.pk, "category": e.category, "error_code": e.error_code, "field": e.field,
             "message": e.message}
            for e in getattr(instance, source)
        ]  # fmt: skip
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        attname = f"{source}_id"
        return lambda instance: getattr(instance, attname)
    if isinstance(field, PLAIN) and not isinstance(field, serializers.DecimalField):
        return lambda instance: getattr(instance, source)

    def read(instance):
        value = getattr(instance, source)
        return None if value is None else field.to_representation(value)

    return read


class OnCreateFieldsMixin(serializers.Serializer):
    """Assignment and campaign, writable when the write may create the prospect."""

    campaign = IdField(
        queryset=Campaign.objects.all(),
        allow_null=True,
        required=False,
        help_text="The first-touch campaign, when this creates the prospect.",
    )
    assigned_user = IdField(
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text="Assign a prospect this creates (an assigned prospect syncs to Salesforce).",
    )
    assigned_queue = IdField(
        queryset=CrmQueue.objects.all(),
        allow_null=True,
        required=False,
        help_text="Or assign it to a Salesforce queue.",
    )


class ProspectCreateSerializer(OnCreateFieldsMixin, ProspectSerializer):
    class Meta(ProspectSerializer.Meta):
        read_only_fields = [n for n in READ_ONLY_FIELDS if n not in ON_CREATE_FIELDS]
        extra_kwargs = {**ProspectSerializer.Meta.extra_kwargs, "email": {"required": True}}


class ProspectMatchSerializer(ProspectSerializer):
    """A prospect matched by ``crm_id`` (its Lead or Contact id), else by ``email`` (the most
    recently active prospect with it, as Pardot's AMPSEA does); created when none matches.
    A batch's rows."""

    crm_id = StrictRegexField(
        r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$",
        required=False,
        write_only=True,
        help_text="A Salesforce Lead or Contact id (15 or 18 characters).",
    )

    class Meta(ProspectSerializer.Meta):
        fields = [*ProspectSerializer.Meta.fields, "crm_id"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs.get("crm_id") and not attrs.get("email"):
            raise serializers.ValidationError({"email": ["Give an email or a crm_id to match."]})
        return attrs


class ProspectUpsertSerializer(OnCreateFieldsMixin, ProspectMatchSerializer):
    class Meta(ProspectMatchSerializer.Meta):
        read_only_fields = ProspectCreateSerializer.Meta.read_only_fields


class BatchRowSerializer(ProspectMatchSerializer):
    """A batch's row: the Salesforce campaign is given once, for the whole batch."""

    salesforce_campaign = None
    campaign_member_status = None

    class Meta(ProspectMatchSerializer.Meta):
        fields = [n for n in ProspectMatchSerializer.Meta.fields if n not in CAMPAIGN_FIELDS]


class BatchUpsertSerializer(StrictMixin, OnCreateFieldsMixin, serializers.Serializer):
    """Rows as the upsert takes them, less assignment and campaigns: those are given once, for
    the prospects the batch creates (assignment, campaign) or writes (Salesforce campaign)."""

    MAX_ROWS = 1000

    salesforce_campaign = salesforce_campaign_field()
    campaign_member_status = member_status_field()

    def validate(self, attrs):
        return check_salesforce_campaign(super().validate(attrs))

    prospects = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_ROWS,
        help_text="Up to 1,000 prospects, each as the upsert takes it.",
    )


class FieldProblemSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class RowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row's position in the request, from 0.")
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "failed"])
    id = serializers.IntegerField(allow_null=True, help_text="The prospect's id.")
    errors = FieldProblemSerializer(many=True)


class BatchResultSerializer(serializers.Serializer):
    results = RowResultSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    id = serializers.IntegerField(help_text="The prospect that has the email.")


class AssignableUserField(IdField):
    """A user a prospect can be assigned to, as the prospect page offers them (read when a
    request is validated: the exclusions may read the database)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=get_user_model().objects.all(), **kwargs)

    def get_queryset(self):
        return assignable_users()


class AssignSerializer(StrictMixin, serializers.Serializer):
    """Whom to assign a prospect to: a user or a Salesforce queue, exactly one."""

    user = AssignableUserField(
        required=False, help_text="A portal user with a role (Marketer or Sync admin), active."
    )
    queue = IdField(
        queryset=CrmQueue.objects.filter(is_active=True),
        required=False,
        help_text="Or a Salesforce lead queue, active in Salesforce.",
    )

    def validate(self, data: dict) -> dict:
        if ("user" in data) == ("queue" in data):
            raise serializers.ValidationError("Send either “user” or “queue”: one of them.")
        return data


class SyncRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sync_status = serializers.CharField()


class SyncErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncError
        fields = [
            "id",
            "prospect",
            "prospect_email",
            "direction",
            "operation",
            "sobject",
            "record_id",
            "error_code",
            "category",
            "message",
            "field",
            "fields",
            "value_sent",
            "constraint",
            "attempts",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
            "resolution",
        ]


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "cost", "created_at"]


class ImportOptionsSerializer(StrictMixin, serializers.Serializer):
    """``POST /imports/``: a CSV or XLSX file and the Imports page's options (multipart)."""

    file = serializers.FileField(help_text="CSV (any common encoding and delimiter) or XLSX.")
    mapping = serializers.JSONField(
        required=False,
        help_text=(
            'Column → field, e.g. {"E-mail Address": "email", "Region": "custom:region"} (by '
            "header text or column index from 0); guessed from the headers when left out."
        ),
    )
    overwrite = serializers.BooleanField(
        default=True, help_text="False: only fill fields that are blank on the prospect."
    )
    create = serializers.BooleanField(
        default=True, help_text="False: rows that match no prospect are refused."
    )
    assign_user = FormIdField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    assign_queue = FormIdField(queryset=CrmQueue.objects.all(), required=False, allow_null=True)
    campaign = FormIdField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    validate_values = serializers.BooleanField(
        default=True, help_text="Refuse dropdown values that are not among the field's choices."
    )
    salesforce_campaign = salesforce_campaign_field(form=True)
    campaign_member_status = member_status_field()
    run_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Run later (after hours), at this time; left out, it runs now.",
    )

    def validate(self, attrs):
        return check_salesforce_campaign(super().validate(attrs))

    def validate_mapping(self, value):
        if value is None:
            return None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise serializers.ValidationError("An object of column → field name, all text.")
        return value


class ImportSerializer(serializers.ModelSerializer):
    """An import: its state, its counts as it runs, and where its row report is."""

    report = serializers.SerializerMethodField(help_text="The row report (CSV), once finished.")
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Import
        fields = [
            "id",
            "state",
            "message",
            "file_name",
            "file_size",
            "format",
            "mapping",
            "options",
            "created_at",
            "scheduled_for",
            "started_at",
            "finished_at",
            "rows_total",
            "rows_read",
            "percent",
            "created",
            "updated",
            "unchanged",
            "failed",
            "problems_total",
            "report",
        ]
        read_only_fields = fields

    def get_report(self, run) -> str | None:
        if not run.finished:
            return None
        request = self.context.get("request")
        path = reverse("api:v1:import-report", args=[run.pk])
        return request.build_absolute_uri(path) if request else path

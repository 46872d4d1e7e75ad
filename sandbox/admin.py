"""The org admin: records, metadata, rules, users and permissions, editable in Django's admin.

Change a field length, revoke a permission, flip a sharing model or add a validation rule here
and the next API call sees it (metadata saves bump the org's ``meta_version``). Record actions
convert leads, merge, delete and undelete; user actions revoke sessions.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sandbox import auth, lifecycle
from sandbox.models import (
    AccessToken,
    BulkJob,
    ConnectedApp,
    DuplicateRule,
    FaultConfig,
    Field,
    FieldPermission,
    ObjectPermission,
    Org,
    OrgUser,
    Profile,
    QueueMember,
    Record,
    SObject,
    TriggerRule,
    ValidationRule,
)


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "id",
        "daily_api_limit",
        "session_idle_seconds",
        "state_country_picklists",
    ]


class FieldInline(admin.TabularInline):
    model = Field
    extra = 0
    fields = [
        "name",
        "label",
        "type",
        "length",
        "nillable",
        "createable",
        "updateable",
        "external_id",
        "unique",
        "restricted_picklist",
    ]
    show_change_link = True


@admin.register(SObject)
class SObjectAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "key_prefix", "custom", "sharing_model", "org"]
    list_filter = ["org", "custom", "sharing_model"]
    list_editable = ["sharing_model"]
    inlines = [FieldInline]


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["name", "sobject", "type", "length", "nillable", "external_id", "unique"]
    list_filter = ["sobject__org", "sobject", "type", "custom"]
    search_fields = ["name", "label"]


class ObjectPermissionInline(admin.TabularInline):
    model = ObjectPermission
    extra = 0


class FieldPermissionInline(admin.TabularInline):
    model = FieldPermission
    extra = 0
    raw_id_fields = ["field"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "org", "view_all_data", "modify_all_data", "edit_converted_leads"]
    inlines = [ObjectPermissionInline, FieldPermissionInline]


@admin.register(ValidationRule)
class ValidationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "sobject", "active", "match", "error_message", "error_field"]
    list_filter = ["active", "sobject"]


@admin.register(TriggerRule)
class TriggerRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "sobject", "active", "match", "exception_type", "exception_message"]
    list_filter = ["active", "sobject"]


@admin.register(DuplicateRule)
class DuplicateRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "sobject", "active", "action", "match_fields"]
    list_filter = ["active", "action"]


@admin.register(OrgUser)
class OrgUserAdmin(admin.ModelAdmin):
    list_display = ["username", "id", "profile", "business_unit", "is_active"]
    list_filter = ["org", "profile", "business_unit", "is_active"]
    exclude = ["password"]
    actions = ["revoke_sessions"]

    @admin.action(description="Revoke every session (tokens get INVALID_SESSION_ID)")
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sum(auth.revoke_sessions(user.pk) for user in queryset)
        self.message_user(request, f"Revoked {count} sessions.")


admin.site.register(QueueMember)


@admin.register(ConnectedApp)
class ConnectedAppAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "org", "run_as"]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "app", "issued_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected sessions")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, f"Revoked {queryset.update(revoked=True)} sessions.")


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "sobject", "name", "email", "owner_id", "is_deleted", "system_modstamp"]
    list_filter = ["sobject", "is_deleted", "org"]
    search_fields = ["=id", "email", "ext_id"]
    readonly_fields = ["id", "org", "sobject", "system_modstamp", "deleted_at"]
    actions = ["convert_leads", "merge_records", "delete_records", "undelete_records"]
    show_full_result_count = False

    @admin.display(description="Name")
    def name(self, record: Record) -> str:
        return record.data.get("Name") or record.data.get("Subject") or ""

    @admin.action(description="Convert lead (Contact + Account, memberships moved)")
    def convert_leads(self, request: HttpRequest, queryset: QuerySet) -> None:
        for lead in queryset:
            try:
                made = lifecycle.convert_lead(lead)
            except ValueError as exc:
                self.message_user(request, f"{lead.pk}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Converted {lead.pk}: contact {made['contact']}, account {made['account']}.",
            )

    @admin.action(description="Merge into the oldest selected record")
    def merge_records(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows = list(queryset.order_by("id"))
        try:
            moved = lifecycle.merge_records(rows[0], rows[1:])
        except (ValueError, IndexError) as exc:
            self.message_user(request, f"Cannot merge: {exc}", messages.ERROR)
            return
        self.message_user(
            request, f"Merged {len(rows) - 1} into {rows[0].pk}; {moved} related records moved."
        )

    @admin.action(description="Delete (to the recycle bin)")
    def delete_records(self, request: HttpRequest, queryset: QuerySet) -> None:
        for record in queryset:
            lifecycle.delete_record(record)
        self.message_user(request, "Deleted.")

    @admin.action(description="Undelete")
    def undelete_records(self, request: HttpRequest, queryset: QuerySet) -> None:
        for record in queryset:
            lifecycle.undelete_record(record)
        self.message_user(request, "Restored.")


@admin.register(FaultConfig)
class FaultConfigAdmin(admin.ModelAdmin):
    list_display = [
        "org",
        "seed",
        "latency_ms",
        "error_rate",
        "error_status",
        "lock_rate",
        "drop_rate",
        "drop_after_rate",
        "outage_until",
    ]


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "job_type",
        "operation",
        "sobject",
        "state",
        "records_processed",
        "records_failed",
        "created_date",
    ]
    list_filter = ["job_type", "state", "operation"]
    readonly_fields = [f.name for f in BulkJob._meta.fields]

"""Sync Errors table (django-tables2): one row per refusal, read from the error row alone."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from sync.models import SyncError

CATEGORY_BADGES = {
    "data_formatting": "text-bg-warning",
    "access": "text-bg-danger",
    "process_alignment": "text-bg-info",
    "customization": "text-bg-secondary",
}


def shorten_message(message: str, value: str, *, limit: int = 160) -> str:
    """Salesforce repeats the refused value inside its message; abbreviate it there so the
    rule at the end ("max length=100") stays visible."""
    if value and len(value) > 40 and value in message:
        message = message.replace(value, value[:30] + "…", 1)
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _row_id(record: SyncError) -> str:
    return f"error-{record.pk}"


class SyncErrorTable(tables.Table):
    """The guide's columns (related prospect, cause, date) plus what it takes to fix the error."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {"aria-label": "Select all on this page", "data-select-all": "true"},
            "td__input": {"form": "bulk-form", "aria-label": "Select this error"},
        },
    )
    prospect = tables.Column(
        verbose_name="Prospect", accessor="prospect_email", order_by=("prospect_email",)
    )
    message = tables.Column(
        verbose_name="Cause", orderable=False, attrs={"td": {"class": "errors-cause"}}
    )
    last_seen_at = tables.DateTimeColumn(
        verbose_name="Date", format="M j, Y H:i", attrs={"td": {"class": "text-nowrap"}}
    )
    error_code = tables.Column(verbose_name="Code")
    category = tables.Column()
    sobject = tables.Column(verbose_name="Object · operation", order_by=("sobject", "operation"))
    field = tables.Column(verbose_name="Field", empty_values=())
    value_sent = tables.Column(
        verbose_name="Value sent", orderable=False, attrs={"td": {"class": "errors-value"}}
    )
    attempts = tables.Column(attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    first_seen_at = tables.DateTimeColumn(
        verbose_name="First seen", format="M j, Y H:i", attrs={"td": {"class": "text-nowrap"}}
    )
    actions = tables.Column(verbose_name="", orderable=False, empty_values=())

    class Meta:
        model = SyncError
        fields = (
            "select",
            "prospect",
            "message",
            "last_seen_at",
            "error_code",
            "category",
            "sobject",
            "field",
            "value_sent",
            "attempts",
            "first_seen_at",
            "actions",
        )
        attrs = {"class": "table table-hover align-middle mb-0 small", "id": "errors-table"}
        row_attrs = {"id": _row_id, "data-error-id": lambda record: record.pk}
        empty_text = "No sync errors match these filters."
        order_by = ("-last_seen_at",)

    def render_prospect(self, record: SyncError, value: str):
        if record.prospect_id is None:
            return format_html(
                '{} <span class="badge text-bg-light border">deleted</span>', value or "—"
            )
        return format_html(
            '<a href="{}">{}</a>',
            reverse("prospects:detail", args=[record.prospect_id]),
            value or f"prospect {record.prospect_id}",
        )

    def render_message(self, record: SyncError, value: str):
        short = shorten_message(value, record.value_sent)
        return format_html(
            '<a class="link-body-emphasis" href="{}" title="Root cause and fixes">{}</a>',
            reverse("sync:error_detail", args=[record.pk]),
            short,
        )

    def render_error_code(self, value: str):
        return format_html('<code class="text-nowrap">{}</code>', value)

    def render_category(self, record: SyncError):
        return format_html(
            '<span class="badge {}">{}</span>',
            CATEGORY_BADGES.get(record.category, "text-bg-light"),
            record.get_category_display(),
        )

    def render_sobject(self, record: SyncError):
        return format_html(
            '<span class="text-nowrap">{} · {}</span>', record.sobject or "—", record.operation
        )

    def render_field(self, record: SyncError):
        return format_html("<code>{}</code>", record.field) if record.field else "—"

    def render_value_sent(self, value: str):
        short = value if len(value) <= 40 else value[:39] + "…"
        return format_html(
            '<span class="font-monospace text-break" title="{} characters">{}</span>',
            len(value),
            short,
        )

    def render_actions(self, record: SyncError):
        if record.resolved_at:
            return format_html(
                '<span class="badge text-bg-success" title="{}">{}</span>',
                record.resolved_at,
                record.get_resolution_display() or "Resolved",
            )
        return format_html(
            '<button class="btn btn-sm btn-outline-primary text-nowrap" type="button"'
            ' hx-post="{}" hx-target="closest tr" hx-swap="outerHTML"'
            ' hx-disabled-elt="this" data-testid="resync-row">'
            '<i class="bi bi-arrow-repeat me-1"></i>Resync</button>',
            reverse("sync:error_resync", args=[record.pk]),
        )

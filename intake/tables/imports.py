"""The Imports page's tables (django-tables2): the history, and one import's refused rows."""

import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.html import format_html

from intake.models import Import, ImportProblem

STATE_BADGES = {
    Import.State.DRAFT: "text-bg-light border",
    Import.State.SCHEDULED: "text-bg-info",
    Import.State.QUEUED: "text-bg-secondary",
    Import.State.RUNNING: "text-bg-primary",
    Import.State.DONE: "text-bg-success",
    Import.State.FAILED: "text-bg-danger",
    Import.State.CANCELLED: "text-bg-warning",
}


class CountColumn(tables.Column):
    """A count, right-aligned, with thousands separators."""

    def __init__(self, **kwargs) -> None:
        attrs = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}
        super().__init__(attrs=attrs, **kwargs)

    def render(self, value: int) -> str:
        return intcomma(value)


class ImportTable(tables.Table):
    """Who imported which file when, what came of it, and links to its page and report."""

    created_at = tables.DateTimeColumn(verbose_name="When", format="M j, Y H:i")
    created_by = tables.Column(verbose_name="Who", order_by=("created_by__username",))
    file_name = tables.Column(verbose_name="File")
    state = tables.Column()
    rows_read = CountColumn(verbose_name="Rows")
    created = CountColumn()
    updated = CountColumn()
    unchanged = CountColumn()
    failed = CountColumn(verbose_name="Refused")
    links = tables.Column(verbose_name="", orderable=False, empty_values=())

    class Meta:
        model = Import
        fields = [
            "created_at",
            "created_by",
            "file_name",
            "state",
            "rows_read",
            "created",
            "updated",
            "unchanged",
            "failed",
        ]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "imports-table"}
        row_attrs = {"data-state": lambda record: record.state}
        empty_text = "No imports yet."

    def render_file_name(self, record: Import, value: str):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)

    def render_state(self, record: Import):
        text = record.get_state_display()
        if record.state == Import.State.SCHEDULED and record.scheduled_for:
            text = f"Scheduled for {record.scheduled_for:%b %d %H:%M}"
        return format_html('<span class="badge {}">{}</span>', STATE_BADGES[record.state], text)

    def render_links(self, record: Import):
        if record.state == Import.State.DRAFT:
            url = reverse("intake:import_map", args=[record.pk])
            return format_html('<a href="{}">Map columns</a>', url)
        if not record.finished:
            return ""
        url = reverse("intake:import_report", args=[record.pk])
        return format_html('<a href="{}">Row report</a>', url)


class ImportProblemTable(tables.Table):
    line = tables.Column(attrs={"td": {"class": "text-end"}})
    column = tables.Column()
    value = tables.Column(attrs={"td": {"class": "text-break"}})
    reason = tables.Column()

    class Meta:
        model = ImportProblem
        fields = ["line", "column", "value", "reason"]
        attrs = {"class": "table table-sm mb-0 small", "data-testid": "problems"}
        orderable = False
        empty_text = "No row was refused."

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from operations.recycle import ArchiveReason, reason_of
from prospects.models import Prospect

REASON_BADGE = {
    ArchiveReason.CRM_DELETED: "text-bg-danger",
    ArchiveReason.MERGED: "text-bg-warning",
    ArchiveReason.SHARING: "text-bg-info",
    ArchiveReason.USER: "text-bg-secondary",
}


class RecycleBinTable(tables.Table):
    name = tables.Column(
        verbose_name="Name",
        linkify=True,
        accessor="full_name",
        order_by=("last_name", "first_name"),
        empty_values=(),
    )
    email = tables.Column()
    company = tables.Column()
    reason = tables.Column(verbose_name="Why", orderable=False, empty_values=())
    archived_by = tables.Column(verbose_name="By", orderable=False, default="System")
    archived_at = tables.DateTimeColumn(
        verbose_name="Archived", format="M j, Y H:i", attrs={"td": {"class": "text-nowrap"}}
    )
    actions = tables.Column(verbose_name="", orderable=False, empty_values=())

    class Meta:
        model = Prospect
        fields = ("name", "email", "company", "reason", "archived_by", "archived_at", "actions")
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "The recycle bin is empty."
        order_by = "-archived_at"

    def __init__(self, *args, admin: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin

    def render_name(self, record: Prospect, value: str) -> str:
        return value or "(no name)"

    def render_reason(self, record: Prospect) -> str:
        reason = reason_of(record.archive_direction, record.archive_message)
        return format_html(
            '<span class="badge {}" title="{}">{}</span>',
            REASON_BADGE.get(reason, "text-bg-light border"),
            record.archive_message or "",
            reason.label,
        )

    def render_actions(self, record: Prospect) -> str:
        restore = format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}">'
            '<i class="bi bi-arrow-counterclockwise me-1"></i>Restore</a>',
            reverse("operations:recycle_restore", args=[record.pk]),
        )
        if not self.admin:
            return restore
        return format_html(
            '<div class="d-flex gap-1 justify-content-end">{}<a class="btn btn-sm '
            'btn-outline-danger" href="{}"><i class="bi bi-trash me-1"></i>Delete for good</a></div>',
            restore,
            reverse("operations:recycle_purge", args=[record.pk]),
        )

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from prospects.models import Prospect


class ProspectTable(tables.Table):
    # The list's selection, for bulk actions (the checkboxes belong to the form named below).
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "input": {"form": "prospect-selection", "aria-label": "Select"},
            "th__input": {"form": "prospect-selection", "aria-label": "Select all on this page"},
        },
    )
    name = tables.Column(
        verbose_name="Name",
        linkify=True,
        accessor="full_name",
        order_by=("last_name", "first_name"),
        empty_values=(),
    )
    email = tables.EmailColumn()
    company = tables.Column()
    score = tables.Column(attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    grade = tables.Column()
    assigned_user = tables.Column(verbose_name="Assigned to", order_by=("assigned_user__username",))
    crm_status = tables.Column(verbose_name="CRM", orderable=False, empty_values=())
    sync_status = tables.Column(verbose_name="Sync")
    created_at = tables.DateTimeColumn(
        verbose_name="Created", format="M j, Y", attrs={"td": {"class": "text-nowrap"}}
    )

    class Meta:
        model = Prospect
        fields = (
            "select",
            "name",
            "email",
            "company",
            "score",
            "grade",
            "assigned_user",
            "crm_status",
            "sync_status",
            "created_at",
        )
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No prospects match these filters."

    def render_email(self, value: str) -> str:
        """A long address may wrap before its "@" rather than push the last columns off the
        card (the whole address stays one link, escaped)."""
        local, at, domain = value.partition("@")
        return format_html('<a href="mailto:{}">{}<wbr>{}{}</a>', value, local, at, domain)

    def render_name(self, record: Prospect, value: str) -> str:
        return value or "(no name)"

    def render_crm_status(self, record: Prospect) -> str:
        badge = {"contact": "text-bg-success", "lead": "text-bg-primary"}.get(
            record.crm_status, "text-bg-light border"
        )
        return format_html(
            '<span class="badge {}">{}</span>', badge, record.get_crm_status_display()
        )

    def render_sync_status(self, record: Prospect) -> str:
        badge = {
            "synced": "text-bg-success",
            "pending": "text-bg-info",
            "error": "text-bg-danger",
            "waiting_assignment": "text-bg-warning",
        }.get(record.sync_status, "text-bg-light border")
        label = {"waiting_assignment": "Waiting for assignment"}.get(
            record.sync_status, record.get_sync_status_display()
        )
        return format_html('<span class="badge {}">{}</span>', badge, label)


class ScoringRuleTable(tables.Table):
    """Points per activity type (rows are dicts: type, label, points, default)."""

    label = tables.Column(verbose_name="Activity", orderable=False)
    points = tables.Column(
        orderable=False, attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    default = tables.Column(
        verbose_name="Pardot default",
        orderable=False,
        attrs={"td": {"class": "text-end text-secondary"}, "th": {"class": "text-end"}},
    )

    class Meta:
        attrs = {"class": "table table-sm align-middle mb-0", "data-testid": "scoring-rules"}

    def render_points(self, value: int) -> str:
        return f"{value:+d}" if value else "0"

    def render_default(self, value: int) -> str:
        return f"{value:+d}" if value else "0"


class GradingProfileTable(tables.Table):
    name = tables.Column()
    is_default = tables.BooleanColumn(verbose_name="Default")
    criteria = tables.Column(verbose_name="Criteria", orderable=False, empty_values=())
    prospects = tables.Column(verbose_name="Own prospects", orderable=False, empty_values=())

    class Meta:
        attrs = {"class": "table table-sm align-middle mb-0", "data-testid": "grading-profiles"}
        empty_text = "No grading profile yet: prospects keep the grades they have."

    def __init__(self, *args, can_edit: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.can_edit = can_edit

    def render_name(self, record, value: str) -> str:
        if not self.can_edit:
            return value
        url = reverse("prospects:grading_profile_edit", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_criteria(self, record) -> str:
        items = [
            format_html("<li>{} <span class='text-secondary'>(±{}/3)</span></li>", c, c.weight)
            for c in record.criteria.all()
        ]
        if not items:
            return format_html("<span class='text-secondary'>{}</span>", "none")
        return format_html(
            "<ul class='list-unstyled small mb-0'>{}</ul>",
            format_html_join("", "{}", ((i,) for i in items)),
        )

    def render_prospects(self, record) -> str:
        if record.is_default:
            return f"{record.own_prospects:,} + every prospect without a profile"
        return f"{record.own_prospects:,}"

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from automation.models import ListMembership, ProspectList, Rule, RuleRun


class ProspectListTable(tables.Table):
    name = tables.Column(linkify=lambda record: reverse("automation:list_detail", args=[record.pk]))
    kind = tables.Column(verbose_name="Type")
    member_count = tables.Column(
        verbose_name="Members", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    recomputed_at = tables.DateTimeColumn(verbose_name="Recomputed", format="M j, Y H:i")
    updated_at = tables.DateTimeColumn(verbose_name="Changed", format="M j, Y H:i")

    class Meta:
        model = ProspectList
        fields = ("name", "kind", "member_count", "recomputed_at", "updated_at")
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = (
            "No lists yet: create one, or save the prospect list's filter as a dynamic list."
        )

    def render_kind(self, record: ProspectList, value: str) -> str:
        badge = (
            "text-bg-info" if record.kind == ProspectList.Kind.DYNAMIC else "text-bg-light border"
        )
        problem = (
            format_html(' <span class="badge text-bg-danger">Problem</span>')
            if record.problem
            else ""
        )
        return format_html('<span class="badge {}">{}</span>{}', badge, value, problem)


class MemberTable(tables.Table):
    """A list's members, newest first; not sortable (a million rows sort slowly)."""

    select = tables.CheckBoxColumn(
        accessor="prospect_id",
        attrs={
            "input": {"form": "member-selection", "name": "prospect"},
            "th__input": {"form": "member-selection", "aria-label": "Select all on this page"},
        },
    )
    name = tables.Column(
        accessor="prospect__full_name",
        verbose_name="Name",
        empty_values=(),
        linkify=lambda record: reverse("prospects:detail", args=[record.prospect_id]),
    )
    email = tables.Column(accessor="prospect__email")
    company = tables.Column(accessor="prospect__company")
    score = tables.Column(
        accessor="prospect__score", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    grade = tables.Column(accessor="prospect__grade")
    source = tables.Column(verbose_name="Added by")
    added_at = tables.DateTimeColumn(verbose_name="Added", format="M j, Y H:i")

    class Meta:
        model = ListMembership
        fields = ("select", "name", "email", "company", "score", "grade", "source", "added_at")
        orderable = False
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No members."

    def render_name(self, record: ListMembership, value: str) -> str:
        return value or record.prospect.email


class RuleTable(tables.Table):
    name = tables.Column(linkify=lambda record: reverse("automation:rule_detail", args=[record.pk]))
    mode = tables.Column()
    state = tables.Column()
    last_run_at = tables.DateTimeColumn(verbose_name="Last run", format="M j, Y H:i")

    class Meta:
        model = Rule
        fields = ("name", "mode", "state", "last_run_at")
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No automation rules yet."

    def render_state(self, record: Rule, value: str) -> str:
        badge = {
            "active": "text-bg-success",
            "paused": "text-bg-warning",
            "done": "text-bg-secondary",
        }.get(record.state, "text-bg-light border")
        return format_html('<span class="badge {}">{}</span>', badge, value)


class RuleRunTable(tables.Table):
    started_at = tables.DateTimeColumn(verbose_name="When", format="M j, Y H:i:s")
    trigger = tables.Column()
    matched = tables.Column(attrs={"td": {"class": "text-end"}})
    changed = tables.Column(attrs={"td": {"class": "text-end"}})
    failed = tables.Column(attrs={"td": {"class": "text-end"}})
    skipped = tables.Column(verbose_name="Held by loop guard", attrs={"td": {"class": "text-end"}})
    message = tables.Column(orderable=False)

    class Meta:
        model = RuleRun
        fields = ("started_at", "trigger", "matched", "changed", "failed", "skipped", "message")
        orderable = False
        attrs = {"class": "table table-sm align-middle mb-0"}
        empty_text = "Not run yet."

import datetime

import django_tables2 as tables
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join

from crm.models import CampaignMembership, MembershipState, SalesforceCampaign

STATE_BADGES = {
    MembershipState.SYNCED: "text-bg-success",
    MembershipState.PENDING: "text-bg-info",
    MembershipState.ERROR: "text-bg-danger",
}


def state_badge(membership: CampaignMembership) -> str:
    return format_html(
        '<span class="badge {}" title="{}">{}</span>',
        STATE_BADGES.get(membership.state, "text-bg-light border"),
        membership.error_message,
        membership.get_state_display(),
    )


class CampaignTable(tables.Table):
    name = tables.Column(linkify=("crm:campaign", {"pk": tables.A("pk")}))
    type = tables.Column()
    status = tables.Column()
    is_active = tables.BooleanColumn(verbose_name="Active")
    start_date = tables.DateColumn(verbose_name="Starts", format="M j, Y")
    member_count = tables.Column(
        verbose_name="Members", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    status_counts = tables.Column(verbose_name="By status", orderable=False, empty_values=())
    leadbridge_campaign = tables.Column(verbose_name="Leadbridge campaign", orderable=False)

    class Meta:
        model = SalesforceCampaign
        fields = (
            "name",
            "type",
            "status",
            "is_active",
            "start_date",
            "member_count",
            "status_counts",
            "leadbridge_campaign",
        )
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No Salesforce campaigns match. The pull mirrors them from the org."

    def render_name(self, record: SalesforceCampaign, value: str) -> str:
        if record.is_deleted:
            return format_html(
                '{} <span class="badge text-bg-danger">Deleted in Salesforce</span>', value
            )
        return value

    def render_member_count(self, value: int) -> str:
        return f"{value:,}"

    def render_status_counts(self, record: SalesforceCampaign) -> str:
        counts = record.status_counts or {}
        if not counts:
            return "—"
        return format_html_join(
            " ",
            '<span class="badge text-bg-light border">{} <strong>{}</strong></span>',
            ((label, f"{n:,}") for label, n in sorted(counts.items())),
        )


class MemberTable(tables.Table):
    # Each sort ends on the id, in the direction of the index that answers it (the model's
    # Meta.indexes), so a page of a million members reads 50 index entries, never sorts them all.
    prospect = tables.Column(
        verbose_name="Prospect", accessor="prospect__email", order_by=("prospect__email", "-id")
    )
    name = tables.Column(accessor="prospect__full_name", orderable=False, verbose_name="Name")
    status = tables.Column(order_by=("status", "-id"))
    has_responded = tables.BooleanColumn(
        verbose_name="Responded", order_by=("has_responded", "-id")
    )
    state = tables.Column(verbose_name="Sync", order_by=("state", "-id"))
    # A plain column: DateTimeColumn renders a template per cell, a third of the page's time.
    updated_at = tables.Column(verbose_name="Changed", order_by=("updated_at", "id"))

    class Meta:
        model = CampaignMembership
        fields = ("prospect", "name", "status", "has_responded", "state", "updated_at")
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No members match these filters."
        order_by = ("-id",)

    def render_prospect(self, record: CampaignMembership, value: str) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("prospects:detail", args=[record.prospect_id]), value
        )

    def render_state(self, record: CampaignMembership) -> str:
        return state_badge(record)

    def render_updated_at(self, value: datetime.datetime) -> str:
        return dateformat.format(timezone.localtime(value), "M j, Y H:i")

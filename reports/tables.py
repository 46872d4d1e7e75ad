"""The ROI report's two tables (django-tables2 over the report's rows), totals in the footer."""

from decimal import Decimal

import django_tables2 as tables
from django.utils.html import format_html

from reports.roi import RoiReport, RoiRow

NUMBER = {"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}}
NUMBER_FOOT = {**NUMBER, "tf": {"class": "text-end text-nowrap fw-semibold"}}
DASH = "—"


def money(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def percent(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:,.0f}%"


class Figure(tables.Column):
    """A right-aligned figure with its total in the footer."""

    def __init__(self, *args, fmt=lambda v: f"{v:,}", **kwargs):
        self.fmt = fmt
        kwargs.setdefault("attrs", NUMBER_FOOT)
        kwargs.setdefault("empty_values", ())
        super().__init__(*args, footer=self.total, **kwargs)

    def render(self, value):
        return self.fmt(value)

    def value(self, value):
        return value

    def total(self, table):
        return self.fmt(getattr(table.report.total, self.accessor))


class RoiTable(tables.Table):
    name = tables.Column(
        verbose_name="Campaign", footer="Total", attrs={"tf": {"class": "fw-semibold"}}
    )
    type = tables.Column(verbose_name="Type", footer="")
    opportunities = Figure(verbose_name="Opportunities")
    won = Figure(verbose_name="Won")
    won_revenue = Figure(verbose_name="Won revenue", fmt=money)
    pipeline = Figure(verbose_name="Open pipeline", fmt=money)
    cost = Figure(verbose_name="Cost", fmt=money)
    roi = Figure(verbose_name="ROI", fmt=percent)

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0 roi-table"}
        orderable = False  # ordered by won revenue; the totals row stays last

    def __init__(self, report: RoiReport, **kwargs):
        self.report = report
        super().__init__(report.rows, **kwargs)

    def render_name(self, record: RoiRow, value: str):
        if record.key == "none":
            return format_html('<span class="text-secondary fst-italic">{}</span>', value)
        return value

    def render_cost(self, record: RoiRow, value):
        if value is None:
            return DASH
        return format_html(
            '<span title="{}">{}</span>', record.cost_source or "No cost recorded", money(value)
        )

    def render_roi(self, value):
        if value is None:
            return DASH
        css = "text-success" if value >= 0 else "text-danger"
        return format_html('<span class="{}">{}</span>', css, percent(value))


class FirstTouchTable(RoiTable):
    prospects = Figure(verbose_name="Prospects")
    synced = Figure(verbose_name="Synced to Salesforce")
    cost_per_prospect = Figure(verbose_name="Cost per prospect", fmt=money)

    class Meta(RoiTable.Meta):
        sequence = (
            "name",
            "type",
            "prospects",
            "synced",
            "opportunities",
            "won",
            "won_revenue",
            "pipeline",
            "cost",
            "roi",
            "cost_per_prospect",
        )
        empty_text = "No campaign has prospects, opportunities or a cost in this range."


class PrimaryCampaignTable(RoiTable):
    class Meta(RoiTable.Meta):
        empty_text = "No opportunity has a primary campaign source in this range."

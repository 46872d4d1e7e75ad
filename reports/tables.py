"""The ROI report's two tables (django-tables2 over the report's rows), totals in the footer.

Cells are formatted once per row (``cells``) and the columns are plain: a table of a few hundred
campaigns renders without a render method called per cell.
"""

from decimal import Decimal

import django_tables2 as tables
from django.utils.html import format_html

from reports.roi import RoiReport, RoiRow

NUMBER = {
    "td": {"class": "text-end text-nowrap"},
    "th": {"class": "text-end"},
    "tf": {"class": "text-end text-nowrap fw-semibold"},
}
DASH = "—"


def money(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def percent(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:,.0f}%"


def cells(row: RoiRow) -> dict:
    """A row's cells as shown (user data escaped by ``format_html``)."""
    if row.key == "none":
        name = format_html('<span class="text-secondary fst-italic">{}</span>', row.name)
    else:
        name = row.name
    roi = row.roi
    return {
        "name": name,
        "type": row.type,
        "prospects": f"{row.prospects:,}",
        "synced": f"{row.synced:,}",
        "opportunities": f"{row.opportunities:,}",
        "won": f"{row.won:,}",
        "won_revenue": money(row.won_revenue),
        "pipeline": money(row.pipeline),
        "cost": DASH
        if row.cost is None
        else format_html(
            '<span title="{}">{}</span>', row.cost_source or "No cost recorded", money(row.cost)
        ),
        "roi": DASH
        if roi is None
        else format_html(
            '<span class="{}">{}</span>',
            "text-success" if roi >= 0 else "text-danger",
            percent(roi),
        ),
        "cost_per_prospect": DASH
        if row.cost_per_prospect is None
        else f"{row.cost_per_prospect:,.2f}",
    }


def _footer(table, bound_column, **_) -> str:
    return table.totals.get(bound_column.name, "")


def figure(label: str) -> tables.Column:
    return tables.Column(verbose_name=label, attrs=NUMBER, footer=_footer, empty_values=())


class RoiTable(tables.Table):
    name = tables.Column(
        verbose_name="Campaign",
        footer="Total",
        attrs={"th": {"style": "min-width: 12rem"}, "tf": {"class": "fw-semibold"}},
    )
    type = tables.Column(verbose_name="Type", footer="", empty_values=())
    opportunities = figure("Opportunities")
    won = figure("Won")
    won_revenue = figure("Won revenue")
    pipeline = figure("Open pipeline")
    cost = figure("Cost")
    roi = figure("ROI")

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0 roi-table"}
        orderable = False  # ordered by won revenue; the totals row stays last

    def __init__(self, report: RoiReport, **kwargs):
        self.totals = cells(report.total)
        super().__init__([cells(row) for row in report.rows], **kwargs)


class FirstTouchTable(RoiTable):
    prospects = figure("Prospects")
    synced = figure("Synced to Salesforce")
    cost_per_prospect = figure("Cost per prospect")

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

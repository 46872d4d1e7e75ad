"""The closed-loop ROI report (/reports/roi/) and its CSV export."""

from __future__ import annotations

import codecs
import csv
import io
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.csv_safe import neutralise
from core.roles import marketer_required
from reports.filters import RoiFilter
from reports.models import OpportunityCredit
from reports.roi import (
    CREATED,
    RoiQuery,
    RoiReport,
    first_touch,
    last_refresh,
    primary_campaign,
)
from reports.tables import FirstTouchTable, PrimaryCampaignTable

VIEWS = {"first_touch": "First touch", "primary": "Primary campaign source"}
CHART_CAMPAIGNS = 12


def _filtered(request: HttpRequest) -> tuple[RoiFilter, RoiQuery]:
    filterset = RoiFilter(request.GET, queryset=OpportunityCredit.objects.none())
    return filterset, filterset.roi_query()


def chart_data(report: RoiReport) -> dict:
    """Won revenue and cost of the campaigns with the most of either (the chart stays legible)."""
    rows = sorted(
        (r for r in report.rows if r.won_revenue or r.cost),
        key=lambda r: -max(r.won_revenue, r.cost or 0),
    )[:CHART_CAMPAIGNS]
    return {
        "labels": [r.name for r in rows],
        "revenue": [float(r.won_revenue) for r in rows],
        "cost": [float(r.cost or 0) for r in rows],
    }


def _chart(report: RoiReport) -> tuple[dict, list[str]]:
    """The chart's figures (numbers only, in a JSON script) and its labels (campaign names: user
    data, shown as escaped text the script reads, never inside a <script>)."""
    data = chart_data(report)
    return {"revenue": data["revenue"], "cost": data["cost"]}, data["labels"]


def _tab(view: str, report: RoiReport, querystring: str) -> dict:
    table_class = FirstTouchTable if view == "first_touch" else PrimaryCampaignTable
    chart, labels = _chart(report)
    return {
        "view": view,
        "report": report,
        "table": table_class(report),
        "chart": chart,
        "chart_labels": labels,
        "querystring": querystring,
    }


@marketer_required
def roi(request: HttpRequest) -> HttpResponse:
    """The report: the first-touch totals, and the active tab's table; the other tab's table is
    fetched when it is first shown (``roi_tab``), so the page renders one table, not two."""
    filterset, query = _filtered(request)
    active = request.GET.get("view") if request.GET.get("view") in VIEWS else "first_touch"
    querystring = _without(request, "view")
    touch = first_touch(query)
    report = touch if active == "first_touch" else primary_campaign(query)
    return render(
        request,
        "reports/roi.html",
        {
            "filter": filterset,
            "query": query,
            "created_basis": query.basis == CREATED,
            "active": active,
            "first_touch": touch,
            "tab": _tab(active, report, querystring),
            "refresh": last_refresh(),
            "querystring": querystring,
            "tab_keys": list(VIEWS),
        },
    )


@marketer_required
def roi_tab(request: HttpRequest) -> HttpResponse:
    """One tab of the report (its chart, table and notes), as the page includes it."""
    _, query = _filtered(request)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "first_touch"
    report = first_touch(query) if view == "first_touch" else primary_campaign(query)
    return render(
        request, "reports/_roi_tab.html", {"tab": _tab(view, report, _without(request, "view"))}
    )


def _without(request: HttpRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    return params.urlencode()


CSV_COLUMNS = [
    ("Campaign", "name"),
    ("Type", "type"),
    ("Prospects created", "prospects"),
    ("Synced to Salesforce", "synced"),
    ("Opportunities", "opportunities"),
    ("Won", "won"),
    ("Won revenue", "won_revenue"),
    ("Open pipeline", "pipeline"),
    ("Cost", "cost"),
    ("Cost source", "cost_source"),
    ("ROI (%)", "roi"),
    ("Cost per prospect", "cost_per_prospect"),
    ("Opportunities without amount", "no_amount"),
]
TEXT = {"name", "type", "cost_source"}
PRIMARY_ONLY_LEFT_OUT = {"prospects", "synced", "cost_per_prospect"}


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if name in TEXT:
        return neutralise(str(value))  # user data: a spreadsheet must not evaluate it
    if isinstance(value, Decimal):
        return f"{value:.1f}" if name == "roi" else f"{value:.2f}"
    return str(value)


@marketer_required
def roi_export(request: HttpRequest) -> HttpResponse:
    """The report's table as CSV: UTF-8 with a BOM (Excel reads accents right), plain numbers a
    spreadsheet can sum, text cells with formulas defused, the totals row last."""
    _, query = _filtered(request)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "first_touch"
    report = first_touch(query) if view == "first_touch" else primary_campaign(query)
    columns = [
        (label, name)
        for label, name in CSV_COLUMNS
        if view == "first_touch" or name not in PRIMARY_ONLY_LEFT_OUT
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for label, _ in columns])
    for row in [*report.rows, report.total]:
        writer.writerow([_cell(name, getattr(row, name)) for _, name in columns])
    response = HttpResponse(
        codecs.BOM_UTF8 + buffer.getvalue().encode(), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    name = "first-touch" if view == "first_touch" else "primary-campaign"
    response["Content-Disposition"] = f'attachment; filename="roi-{name}-{stamp}.csv"'
    return response

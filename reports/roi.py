"""Closed-loop ROI: what each campaign cost and what it brought back.

Two attribution models, side by side:

- **First touch** (Pardot's model): a prospect belongs to its campaign (``Prospect.campaign``, the
  campaign it first came through). An opportunity is credited **once**, to the campaign of the
  earliest-created prospect linked to it through a live contact role (ties: the lower id) — the
  very first visitor touchpoint behind the deal. Other prospects on the same opportunity credit
  nothing more, so no revenue is counted twice.
- **Primary campaign source** (Salesforce's model): ``Opportunity.CampaignId``.

Currency values as the mirror holds them: an amount Salesforce left empty (or one too large for the
column, which the pull keeps out rather than cut) counts the opportunity but adds nothing to revenue
or pipeline; a negative amount (a credit note) is summed as is, as Salesforce sums it, so the
report's won revenue equals the org's sum of ``Amount`` over the credited won opportunities.
Deleted and no-longer-visible opportunities and deleted contact roles credit nothing.

Cost: a Leadbridge campaign connected to a Salesforce campaign whose Actual Cost is set uses that
Actual Cost; otherwise its own cost. The Salesforce view uses the campaign's Actual Cost. Costs are
the campaign's whole cost, not prorated to the date range.

The report reads the pre-aggregated ``reports.models`` tables; ``refresh_figures`` rebuilds them
(in one transaction, so readers see either the old figures or the new ones).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from crm.models import Opportunity, OpportunityContactRole, SalesforceCampaign
from prospects.models import Campaign, Prospect
from reports.models import CampaignDay, CreditDay, OpportunityCredit, Refresh

CREATED = "created"
CLOSED = "closed"
FIRST_TOUCH = "first_touch"
PRIMARY = "primary"
ZERO = Decimal("0.00")
# A lock number only this refresh takes: two refreshes at once would only waste work.
REFRESH_LOCK = 7_216_016
OPPORTUNITY_FIGURES = {
    "opportunities": Count("pk"),
    "won": Count("pk", filter=Q(is_won=True)),
    "won_revenue": Sum("amount", filter=Q(is_won=True), default=ZERO),
    "pipeline": Sum("amount", filter=Q(is_closed=False), default=ZERO),
    "no_amount": Count("pk", filter=Q(amount__isnull=True)),
    "negative": Count("pk", filter=Q(amount__lt=0)),
}


def refresh_figures(*, prospects: bool = True) -> Refresh:
    """Rebuild the pre-aggregated figures; ``prospects=False`` rebuilds only the opportunity
    credits (what an opportunities pull changes), leaving the per-day prospect counts.

    1. Serialise refreshes (on PostgreSQL an advisory lock held to the end of the transaction).
    2. Prospects grouped by first-touch campaign and creation day (portal time zone): the
       scan of every prospect, so the cron's refresh only.
    3. Each live opportunity with its earliest-created linked prospect.
    4. The credits summed per campaign and day, for each model and date basis.
    Each step is one ``INSERT … SELECT``, so the rows never leave the database.
    """
    started = time.monotonic()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        if prospects:
            _count_prospects()
        OpportunityCredit.objects.all().delete()
        _credit_opportunities()
        CreditDay.objects.all().delete()
        for model, key in MODELS.items():
            for basis, day in BASES.items():
                _sum_credits(model, key, basis, day)
        took = round((time.monotonic() - started) * 1000)
        Refresh.objects.all().delete()
        return Refresh.objects.create(refreshed_at=timezone.now(), took_ms=took)


def _count_prospects() -> None:
    CampaignDay.objects.all().delete()
    _insert_select(
        CampaignDay,
        ["campaign_id", "day", "prospects", "synced"],
        Prospect.objects.order_by()
        .annotate(day=TruncDate("created_at"))
        .values("campaign_id", "day")
        .annotate(
            n=Count("pk"),
            s=Count("pk", filter=~Q(crm_lead_id="") | ~Q(crm_contact_id="")),
        ),
    )


MODELS = {FIRST_TOUCH: "campaign_id", PRIMARY: "sf_campaign_sf_id"}
BASES = {CREATED: "prospect_created_on", CLOSED: "close_date"}
CREDIT_COLUMNS = [
    "opportunity_id",
    "prospect_id",
    "campaign_id",
    "prospect_created_on",
    "sf_campaign_sf_id",
    "close_date",
    "amount",
    "is_won",
    "is_closed",
]


def _credit_opportunities() -> None:
    """Each live opportunity with its earliest-created linked prospect: one ``DISTINCT ON`` on
    PostgreSQL; elsewhere correlated subqueries (small databases)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {OpportunityCredit._meta.db_table} ({", ".join(CREDIT_COLUMNS)})
                SELECT o.id, f.prospect_id, f.campaign_id, f.created_on, o.campaign_sf_id,
                       o.close_date, o.amount, o.is_won, o.is_closed
                FROM {Opportunity._meta.db_table} o
                LEFT JOIN (
                    SELECT DISTINCT ON (r.opportunity_id) r.opportunity_id,
                           p.id AS prospect_id, p.campaign_id,
                           (p.created_at AT TIME ZONE %s)::date AS created_on
                    FROM {OpportunityContactRole._meta.db_table} r
                    JOIN {Prospect._meta.db_table} p ON p.id = r.prospect_id
                    WHERE NOT r.deleted
                    ORDER BY r.opportunity_id, p.created_at, p.id
                ) f ON f.opportunity_id = o.id
                WHERE o.deleted_at IS NULL
                """,
                [timezone.get_current_timezone_name()],
            )
        return
    earliest = OpportunityContactRole.objects.filter(
        opportunity=OuterRef("pk"), deleted=False, prospect__isnull=False
    ).order_by("prospect__created_at", "prospect_id")
    _insert_select(
        OpportunityCredit,
        CREDIT_COLUMNS,
        Opportunity.objects.live()
        .order_by()
        .annotate(
            credited=Subquery(earliest.values("prospect_id")[:1]),
            credited_campaign=Subquery(earliest.values("prospect__campaign_id")[:1]),
            credited_on=Subquery(
                earliest.annotate(on=TruncDate("prospect__created_at")).values("on")[:1]
            ),
        )
        .values(
            "pk",
            "credited",
            "credited_campaign",
            "credited_on",
            "campaign_sf_id",
            "close_date",
            "amount",
            "is_won",
            "is_closed",
        ),
    )


def _sum_credits(model: str, key: str, basis: str, day: str) -> None:
    """The credits of one model summed per campaign and day of one basis, in one
    ``INSERT … SELECT`` (the key as text: a Leadbridge campaign id or a Salesforce id)."""
    credits = OpportunityCredit.objects.order_by()
    if model == FIRST_TOUCH:
        credits = credits.filter(prospect__isnull=False)
    rows = (
        credits.annotate(
            m=Value(model),
            b=Value(basis),
            k=Coalesce(Cast(key, CharField()), Value("")),
            d=F(day),
        )
        .values("m", "b", "k", "d")
        .annotate(**OPPORTUNITY_FIGURES)
        .values("m", "b", "k", "d", *OPPORTUNITY_FIGURES)
    )
    _insert_select(CreditDay, ["model", "basis", "key", "day", *OPPORTUNITY_FIGURES], rows)


def _insert_select(model, columns: list[str], rows) -> None:
    """``INSERT INTO model (columns) SELECT …``: ``rows`` is a ``values()`` queryset whose
    selected columns come in the order of ``columns``."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) {sql}", params)


def last_refresh() -> Refresh | None:
    return Refresh.objects.order_by("-refreshed_at").first()


@dataclass(frozen=True)
class RoiQuery:
    """What the report is asked: a date range (on prospects' creation, and on opportunities by
    ``basis``: their credited prospect's creation, or their close date) and a campaign type."""

    start: dt.date | None = None
    end: dt.date | None = None
    basis: str = CREATED
    campaign_type: str = ""


@dataclass
class RoiRow:
    """One campaign's figures. ``cost`` None: no cost recorded."""

    name: str
    type: str = ""
    key: str = ""
    prospects: int = 0
    synced: int = 0
    opportunities: int = 0
    won: int = 0
    won_revenue: Decimal = ZERO
    pipeline: Decimal = ZERO
    cost: Decimal | None = None
    cost_source: str = ""
    no_amount: int = 0
    negative: int = 0
    # The totals row: the won revenue of the campaigns with a cost, which its ROI weighs
    # against their cost (revenue without a campaign, or of a free one, cost nothing to win).
    costed_revenue: Decimal | None = None

    @property
    def roi(self) -> Decimal | None:
        """(won revenue − cost) / cost, as a percentage; none without a cost above zero."""
        if not self.cost or self.cost <= 0:
            return None
        revenue = self.won_revenue if self.costed_revenue is None else self.costed_revenue
        return (revenue - self.cost) / self.cost * 100

    @property
    def cost_per_prospect(self) -> Decimal | None:
        if self.cost is None or not self.prospects:
            return None
        return self.cost / self.prospects

    @property
    def is_empty(self) -> bool:
        """Nothing to report: no prospects, no opportunities, no cost."""
        return not (self.prospects or self.opportunities or self.cost)

    def add(self, other: RoiRow) -> None:
        for name in ("prospects", "synced", "opportunities", "won", "no_amount", "negative"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.won_revenue += other.won_revenue
        self.pipeline += other.pipeline
        if other.cost is not None:
            self.cost = (self.cost or ZERO) + other.cost


@dataclass
class RoiReport:
    rows: list[RoiRow]
    total: RoiRow = field(default_factory=lambda: RoiRow(name="Total"))

    def __post_init__(self) -> None:
        for row in self.rows:
            self.total.add(row)
        self.total.costed_revenue = sum(
            (row.won_revenue for row in self.rows if row.cost and row.cost > 0), ZERO
        )


def _day_range(query: RoiQuery, name: str) -> Q:
    condition = Q()
    if query.start:
        condition &= Q(**{f"{name}__gte": query.start})
    if query.end:
        condition &= Q(**{f"{name}__lte": query.end})
    return condition


def _credits(query: RoiQuery, model: str) -> dict[str, dict]:
    """Campaign key ("" for none) -> the opportunity figures the query selects."""
    days = CreditDay.objects.filter(
        _day_range(query, "day"), model=model, basis=query.basis
    ).order_by()
    rows = days.values("key").annotate(**{f"sum_{name}": Sum(name) for name in OPPORTUNITY_FIGURES})
    return {row["key"]: {name: row[f"sum_{name}"] for name in OPPORTUNITY_FIGURES} for row in rows}


def first_touch(query: RoiQuery) -> RoiReport:
    """Per Leadbridge campaign (the prospects' first touch), prospects created in the range and
    the opportunities credited to it."""
    campaigns = {c.pk: c for c in Campaign.objects.select_related("salesforce_campaign")}
    wanted = set(campaigns)
    if query.campaign_type:
        wanted = {
            pk
            for pk, c in campaigns.items()
            if _linked(c) is not None and _linked(c).type == query.campaign_type
        }
    days = (
        CampaignDay.objects.filter(_day_range(query, "day"))
        .values("campaign_id")
        .annotate(n=Sum("prospects"), s=Sum("synced"))
    )
    opps = _credits(query, FIRST_TOUCH)
    rows: dict[int | None, RoiRow] = {}

    def row_for(pk: int | None) -> RoiRow | None:
        if pk is None:
            if query.campaign_type:
                return None
            return rows.setdefault(None, RoiRow(name="No campaign", key="none"))
        if pk not in wanted:
            return None
        if pk not in rows:
            rows[pk] = _campaign_row(campaigns[pk])
        return rows[pk]

    for pk in wanted:
        row_for(pk)
    for day in days:
        if (row := row_for(day["campaign_id"])) is not None:
            row.prospects, row.synced = day["n"], day["s"]
    for key, figures in opps.items():
        if (row := row_for(int(key) if key else None)) is not None:
            for name, value in figures.items():
                setattr(row, name, value)
    return RoiReport(rows=_ordered(row for row in rows.values() if not row.is_empty))


def _linked(campaign: Campaign) -> SalesforceCampaign | None:
    try:
        return campaign.salesforce_campaign
    except SalesforceCampaign.DoesNotExist:
        return None


def _campaign_row(campaign: Campaign) -> RoiRow:
    linked = _linked(campaign)
    if linked is not None and linked.actual_cost is not None:
        cost, source = linked.actual_cost, "Salesforce Actual Cost"
    else:
        cost, source = campaign.cost, "Leadbridge cost"
    return RoiRow(
        name=campaign.name,
        type=linked.type if linked is not None else "",
        key=str(campaign.pk),
        cost=cost,
        cost_source=source,
    )


def primary_campaign(query: RoiQuery) -> RoiReport:
    """Per Salesforce campaign, the opportunities whose primary campaign source it is."""
    campaigns = {c.sf_id: c for c in SalesforceCampaign.objects.all()}
    opps = _credits(query, PRIMARY)
    rows: list[RoiRow] = []
    for sf_id, figures in opps.items():
        campaign = campaigns.get(sf_id)
        if query.campaign_type and (campaign is None or campaign.type != query.campaign_type):
            continue
        if not sf_id:
            row = RoiRow(name="No primary campaign source", key="none")
        elif campaign is None:
            row = RoiRow(name=f"Campaign {sf_id} (not mirrored)", key=sf_id)
        else:
            row = RoiRow(
                name=campaign.name,
                type=campaign.type,
                key=sf_id,
                cost=campaign.actual_cost,
                cost_source="Salesforce Actual Cost" if campaign.actual_cost is not None else "",
            )
        for name, value in figures.items():
            setattr(row, name, value)
        rows.append(row)
    seen = {row.key for row in rows}
    for sf_id, campaign in campaigns.items():  # campaigns that cost money and brought nothing
        wanted = not query.campaign_type or campaign.type == query.campaign_type
        if sf_id not in seen and wanted and campaign.actual_cost and not campaign.deleted_at:
            rows.append(
                RoiRow(
                    name=campaign.name,
                    type=campaign.type,
                    key=sf_id,
                    cost=campaign.actual_cost,
                    cost_source="Salesforce Actual Cost",
                )
            )
    return RoiReport(rows=_ordered(rows))


def _ordered(rows) -> list[RoiRow]:
    """Most won revenue first, then most pipeline, then by name; the catch-all row last."""
    return sorted(
        rows, key=lambda r: (r.key == "none", -r.won_revenue, -r.pipeline, r.name.lower())
    )


def campaign_types() -> list[str]:
    return list(
        SalesforceCampaign.objects.exclude(type="")
        .order_by("type")
        .values_list("type", flat=True)
        .distinct()
    )

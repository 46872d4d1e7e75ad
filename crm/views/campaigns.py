"""Salesforce campaign pages: the campaigns, a campaign's members (CSV too), and adding
prospects to a campaign from the prospect page and the prospect list."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import EmptyPage, Paginator
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import LazyPaginator, RequestConfig, SingleTableMixin

from core.csv_safe import neutralise
from core.models import Task
from core.roles import MarketerRequiredMixin, marketer_required
from crm import jobs
from crm.filters import CampaignFilter, MemberFilter
from crm.forms import AddToCampaignForm, ConnectForm
from crm.memberships import CampaignError, add_to_campaign, change_status
from crm.models import CampaignMembership, SalesforceCampaign
from crm.tables import CampaignTable, MemberTable
from prospects.models import Prospect

PER_PAGE = 50
EXPORT_CHUNK = 5000
MAX_SELECTED = 1000


class CampaignListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = SalesforceCampaign
    table_class = CampaignTable
    filterset_class = CampaignFilter
    template_name = "crm/campaign_list.html"
    table_pagination = {"per_page": PER_PAGE}

    def get_queryset(self):
        return SalesforceCampaign.objects.select_related("leadbridge_campaign")


MAX_PAGES = 200  # pages stop at 10,000 members: past that, narrow the filters or export
COUNT_CAP = 1_000  # a filtered page counts its members exactly up to this many (20 pages)


class KnownCountPaginator(Paginator):
    """A paginator given its count (the campaign's cached counts, or a capped count): no
    COUNT(*) over a million members on every page, and no page past ``MAX_PAGES``."""

    def __init__(self, *args, known_count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        return min(self.known_count, MAX_PAGES * self.per_page)


class BoundedLazyPaginator(LazyPaginator):
    """Pages without a count (an estimate is shown instead), and none past ``MAX_PAGES``."""

    def validate_number(self, number):
        return min(super().validate_number(number), MAX_PAGES)


class DeferredJoinQuerySet(QuerySet):
    """Reads a deep page's ids first (from the index alone), then joins only those rows.

    ``OFFSET 9,950 LIMIT 51`` with the prospect joined would fetch and join 10,001 prospects;
    this reads 10,001 index entries and joins 51.
    """

    DEFER_FROM = 1000

    def __getitem__(self, k):
        deep = isinstance(k, slice) and (k.start or 0) >= self.DEFER_FROM
        if not deep or self._iterable_class is not ModelIterable or not self.query.select_related:
            return super().__getitem__(k)
        return self.filter(pk__in=self.values("pk")[k])


@dataclass(frozen=True)
class MemberCount:
    """How many members the page's filters match: exact, or the planner's estimate."""

    n: int
    exact: bool


def _members_page(request: HttpRequest, campaign: SalesforceCampaign) -> tuple:
    """The members table, its filters and its count, in a bounded number of cheap queries.

    1. No filter, or the status alone: the campaign's cached counts (no counting at all).
    2. Other filters on the membership: counted exactly up to ``COUNT_CAP`` (a LIMITed
       subquery, so its cost is bounded), above that the planner's estimate, shown as "about N";
       with the email filter (a join), the estimate. The last page makes any count exact.
    3. Every sort and filter is answered by an index in the order the page reads (see the
       model's ``Meta.indexes``); pages stop at ``MAX_PAGES`` (offsets stay cheap).
    """
    members = (
        DeferredJoinQuerySet(CampaignMembership)
        .filter(campaign=campaign)
        .select_related("prospect")
    )
    filterset = MemberFilter(request.GET, queryset=members, campaign=campaign)
    table = MemberTable(filterset.qs)
    RequestConfig(request, paginate=False).configure(table)  # the sort
    count = _member_count(filterset, campaign)
    if count.exact:
        paginate = {"paginator_class": KnownCountPaginator, "known_count": count.n}
    else:
        paginate = {"paginator_class": BoundedLazyPaginator}
    try:
        table.paginate(per_page=PER_PAGE, page=_page_number(request), **paginate)
    except EmptyPage:
        table.paginate(per_page=PER_PAGE, page=table.paginator.num_pages, **paginate)
    if not count.exact and not table.page.has_next():  # the last page: the count is known
        offset = (table.page.number - 1) * PER_PAGE
        count = MemberCount(offset + len(table.page.object_list), exact=True)
    return filterset, table, count


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return min(int(raw), MAX_PAGES) if raw.isdigit() and int(raw) > 0 else 1


def _member_count(filterset: MemberFilter, campaign: SalesforceCampaign) -> MemberCount:
    filterset.is_valid()  # the fields that are valid filter (django-filter drops the others)
    cleaned = getattr(filterset.form, "cleaned_data", {})
    data = {k: v for k, v in cleaned.items() if v not in (None, "")}
    if not data:
        return MemberCount(campaign.member_count, exact=True)
    if set(data) == {"status"}:
        return MemberCount((campaign.status_counts or {}).get(data["status"], 0), exact=True)
    matching = filterset.qs.order_by()
    if "email" in data:  # counting through the join costs a prospect read per member
        return MemberCount(_estimate(matching), exact=False)
    capped = matching.values("pk")[: COUNT_CAP + 1].count()
    if capped <= COUNT_CAP:
        return MemberCount(capped, exact=True)
    return MemberCount(max(_estimate(matching), capped), exact=False)


def _estimate(queryset) -> int:
    """The planner's row estimate for ``queryset`` (PostgreSQL), without running it."""
    if connection.vendor != "postgresql":
        return queryset.count()
    plan = json.loads(queryset.values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


@marketer_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(
        SalesforceCampaign.objects.select_related("parent", "leadbridge_campaign").prefetch_related(
            "member_statuses"
        ),
        pk=pk,
    )
    filterset, table, count = _members_page(request, campaign)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/campaign_detail.html",
        {
            "campaign": campaign,
            "statuses": list(campaign.member_statuses.all()),
            "filter": filterset,
            "table": table,
            "member_count": count,
            "max_pages": MAX_PAGES,
            "querystring": params.urlencode(),
            "connect_form": ConnectForm(
                initial={"leadbridge_campaign": campaign.leadbridge_campaign},
                campaign=campaign,
            ),
        },
    )


@marketer_required
@require_POST
def campaign_connect(request: HttpRequest, pk: int) -> HttpResponse:
    """Connect (or disconnect) a Leadbridge campaign to this Salesforce campaign."""
    campaign = get_object_or_404(SalesforceCampaign, pk=pk)
    form = ConnectForm(request.POST, campaign=campaign)
    if form.is_valid():
        chosen = form.cleaned_data["leadbridge_campaign"]
        with transaction.atomic():
            campaign.leadbridge_campaign = chosen
            campaign.save(update_fields=["leadbridge_campaign"])
        messages.success(
            request, f"Connected to “{chosen}”." if chosen else "Disconnected the campaign."
        )
    else:
        messages.error(request, "That Leadbridge campaign is connected to another one already.")
    return redirect("crm:campaign", pk=campaign.pk)


@marketer_required
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The members the page's filter matches, as CSV (UTF-8 with a BOM, formulas defused)."""
    campaign = get_object_or_404(SalesforceCampaign, pk=pk)
    members = CampaignMembership.objects.filter(campaign=campaign)
    rows = MemberFilter(request.GET, queryset=members, campaign=campaign).qs
    response = StreamingHttpResponse(_export_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-members.csv"'
    return response


EXPORT_COLUMNS = [
    ("prospect_id", "prospect_id"),
    ("email", "prospect__email"),
    ("first_name", "prospect__first_name"),
    ("last_name", "prospect__last_name"),
    ("status", "status"),
    ("has_responded", "has_responded"),
    ("first_responded_date", "first_responded_date"),
    ("sync_state", "state"),
    ("salesforce_member_id", "sf_member_id"),
    ("error", "error_message"),
    ("updated_at", "updated_at"),
]


def _export_lines(rows) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in EXPORT_COLUMNS])
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    fields = [path for _, path in EXPORT_COLUMNS]
    last = 0
    while True:  # keyset pages: flat memory whatever the size
        chunk = list(
            rows.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:EXPORT_CHUNK]
        )
        if not chunk:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in chunk:
            writer.writerow([neutralise(_cell(value)) for value in row[1:]])
        last = chunk[-1][0]
        yield buffer.getvalue().encode()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@marketer_required
@require_POST
def prospect_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The prospect page's "Add to Salesforce campaign"."""
    prospect = get_object_or_404(Prospect, pk=pk)
    form = AddToCampaignForm(request.POST)
    if form.is_valid():
        campaign, status = form.cleaned_data["campaign"], form.cleaned_data["status"]
        add_to_campaign([prospect.pk], campaign, status, actor=request.user)
        messages.success(request, _added_message(prospect, campaign, status))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("prospects:detail", pk=prospect.pk)


def _added_message(prospect: Prospect, campaign: SalesforceCampaign, status: str) -> str:
    if prospect.crm_id:
        return f"Added to “{campaign.name}” as “{status}”; it goes to Salesforce now."
    return (
        f"Added to “{campaign.name}” as “{status}”: pending until the prospect syncs with "
        "Salesforce."
    )


@marketer_required
@require_POST
def membership_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one membership's status from the prospect page."""
    membership = get_object_or_404(CampaignMembership.objects.select_related("campaign"), pk=pk)
    try:
        if change_status(membership, request.POST.get("status", ""), actor=request.user):
            messages.success(request, "Status changed; it goes to Salesforce now.")
    except CampaignError as exc:
        messages.error(request, str(exc))
    return redirect("prospects:detail", pk=membership.prospect_id)


@marketer_required
def bulk_add(request: HttpRequest) -> HttpResponse:
    """Add the prospect list's selection, or everything its filter matches, to a campaign.

    GET shows what will be added (changes nothing); POST adds up to ``INLINE_LIMIT`` at once
    and gives a larger set to an RQ task with a progress bar.
    """
    source = request.POST if request.method == "POST" else request.GET
    selected = [int(i) for i in source.getlist("select") if i.isdigit()][:MAX_SELECTED]
    querystring = source.get("querystring", "")
    scope = "selection" if selected or source.get("scope") == "selection" else "filter"
    ids = selected if scope == "selection" else jobs.matching_prospect_ids(querystring)
    form = AddToCampaignForm(request.POST if request.method == "POST" else None)
    task = None
    if request.method == "POST" and form.is_valid():
        campaign, status = form.cleaned_data["campaign"], form.cleaned_data["status"]
        if len(ids) <= jobs.INLINE_LIMIT:
            touched = add_to_campaign(ids, campaign, status, actor=request.user)
            messages.success(
                request, f"{touched:,} prospects added to “{campaign.name}” as “{status}”."
            )
            return redirect("crm:campaign", pk=campaign.pk)
        try:
            task = Task.enqueue(
                jobs.add_to_campaign_job,
                campaign.pk,
                status,
                kind="campaign_add",
                user=request.user,
                queue_name=jobs.QUEUE,
                prospect_ids=selected or None,
                querystring="" if selected else querystring,
            )
        except Task.Unavailable as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "crm/bulk_add.html",
        {
            "form": form,
            "count": len(ids),
            "scope": scope,
            "selected": selected,
            "querystring": querystring,
            "task": task,
        },
    )


@marketer_required
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The bulk add's progress bar (polled every 2 s while it runs)."""
    task = get_object_or_404(Task, pk=pk, kind="campaign_add", created_by=request.user)
    return render(request, "crm/_task.html", {"task": task})

"""Salesforce campaign pages: the campaigns, a campaign's members (CSV too), and adding
prospects to a campaign from the prospect page and the prospect list."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
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


class KnownCountPaginator(Paginator):
    """A paginator given its count (the campaign's cached counts): no COUNT(*) over a
    million members on every page."""

    def __init__(self, *args, known_count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _members_page(request: HttpRequest, campaign: SalesforceCampaign) -> tuple:
    members = CampaignMembership.objects.filter(campaign=campaign).select_related("prospect")
    filterset = MemberFilter(request.GET, queryset=members, campaign=campaign)
    table = MemberTable(filterset.qs)
    known = _known_count(filterset, campaign)
    paginate = {"per_page": PER_PAGE}
    if known is None:  # narrowed beyond the cached counts: page without counting
        paginate["paginator_class"] = LazyPaginator
    else:
        paginate.update(paginator_class=KnownCountPaginator, known_count=known)
    RequestConfig(request, paginate=paginate).configure(table)
    return filterset, table, known


def _known_count(filterset: MemberFilter, campaign: SalesforceCampaign) -> int | None:
    if not filterset.is_valid():
        return None
    data = {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}
    if not data:
        return campaign.member_count
    if set(data) == {"status"}:
        return (campaign.status_counts or {}).get(data["status"], 0)
    return None


@marketer_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(
        SalesforceCampaign.objects.select_related("parent", "leadbridge_campaign"), pk=pk
    )
    filterset, table, known = _members_page(request, campaign)
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
            "known_count": known,
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

"""Operations pages: the Sync health dashboard (the portal's home page) and the recycle bin."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.roles import (
    MarketerRequiredMixin,
    is_sync_admin,
    marketer_required,
    sync_admin_required,
)
from operations import metrics
from operations.filters import RecycleBinFilter
from operations.health import health_for
from operations.recycle import (
    RECORD_GONE,
    archive_prospects,
    archived_prospects,
    purge_prospect,
    reason_of,
    restore_prospect,
)
from operations.tables import RecycleBinTable
from prospects.models import Prospect

WINDOWS = (1, 6, 24)  # hours the throughput chart can show


def _dashboard_context(request: HttpRequest) -> dict:
    admin = is_sync_admin(request.user)
    hours = request.GET.get("hours", "")
    hours = int(hours) if hours.isdigit() and int(hours) in WINDOWS else 24
    context = {
        "health": health_for(request.user, admin=admin),
        "counts": Prospect.objects.active().aggregate(
            total=Count("id"),
            in_crm=Count("id", filter=~Q(crm_lead_id="") | ~Q(crm_contact_id="")),
            assigned=Count("id", filter=Q(assigned_user__isnull=False)),
            mine=Count("id", filter=Q(assigned_user=request.user)),
        ),
    }
    if admin:
        flow = metrics.throughput(hours=hours)
        context.update(throughput=flow, hours=hours, windows=WINDOWS)
        context["charts"] = {
            "throughput": {k: flow[k] for k in ("labels", "pushed", "pulled", "failed")},
            "errors": metrics.errors_by_category(),
        }
    return context


@marketer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Sync health: Sync admins see the whole connector; marketers their queue and errors."""
    return render(request, "operations/dashboard.html", _dashboard_context(request))


@marketer_required
def dashboard_panels(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures and chart data, swapped in place by htmx every 30 seconds."""
    return render(request, "operations/dashboard_panels.html", _dashboard_context(request))


# -- the recycle bin ---------------------------------------------------------------------------


class RecycleBinView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    """Archived prospects with why and when; restore, and (Sync admins) delete for good."""

    table_class = RecycleBinTable
    filterset_class = RecycleBinFilter
    template_name = "operations/recycle_bin.html"
    table_pagination = {"per_page": 25}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return archived_prospects()

    def get_table_kwargs(self) -> dict:
        return {"admin": is_sync_admin(self.request.user)}


def _archived_or_404(pk: int) -> Prospect:
    prospect = archived_prospects().filter(pk=pk).first()
    if prospect is None:
        raise Http404("No such prospect in the recycle bin.")
    prospect.reason = reason_of(prospect.archive_direction, prospect.archive_message)
    prospect.record_gone = prospect.reason in RECORD_GONE and bool(prospect.crm_id)
    return prospect


@marketer_required
def recycle_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what restoring will do (and, for a record deleted in Salesforce, whether it may be
    recreated: Sync admins only). POST: restore."""
    admin = is_sync_admin(request.user)
    if request.method != "POST":
        return render(
            request,
            "operations/recycle_restore.html",
            {"prospect": _archived_or_404(pk), "admin": admin},
        )
    recreate = request.POST.get("recreate") == "on"
    if recreate and not admin:
        raise PermissionDenied("Only a Sync admin may let Salesforce recreate a deleted record.")
    result = restore_prospect(prospect_id=pk, actor=request.user, allow_recreate=recreate)
    if result.prospect is None:
        messages.info(request, "That prospect is not in the recycle bin any more.")
        return redirect("operations:recycle_bin")
    if result.record_gone:
        messages.warning(
            request,
            f"Restored {result.prospect.email}. Its Salesforce record was deleted and is not "
            "recreated; it does not sync until a Sync admin allows recreation.",
        )
    elif result.recreate:
        messages.success(
            request,
            f"Restored {result.prospect.email}; the next sync links it to a record with its "
            "email or creates a new one.",
        )
    else:
        messages.success(request, f"Restored {result.prospect.email}; syncing.")
    return redirect(result.prospect)


@sync_admin_required
def recycle_purge(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a confirmation page. POST: delete the archived prospect for good."""
    prospect = _archived_or_404(pk)
    if request.method != "POST":
        return render(request, "operations/recycle_purge.html", {"prospect": prospect})
    if purge_prospect(prospect_id=pk):
        messages.success(request, f"Deleted {prospect.email} for good.")
    return redirect("operations:recycle_bin")


@marketer_required
def prospect_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A marketer's delete: GET asks to confirm; POST sends the prospect to the recycle bin
    (its Salesforce record is left alone)."""
    prospect = get_object_or_404(Prospect, pk=pk)
    if request.method != "POST":
        return render(request, "operations/prospect_delete.html", {"prospect": prospect})
    if archive_prospects([pk], actor=request.user):
        messages.success(request, f"{prospect.email} is in the recycle bin; you can restore it.")
    else:
        messages.info(request, f"{prospect.email} was already in the recycle bin.")
    return redirect("operations:recycle_bin")

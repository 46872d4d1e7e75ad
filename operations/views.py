"""Operations pages: the Sync health dashboard (the portal's home page) and the recycle bin."""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.roles import is_sync_admin, marketer_required
from operations import metrics
from operations.health import health_for
from prospects.models import Prospect


def _dashboard_context(request: HttpRequest) -> dict:
    admin = is_sync_admin(request.user)
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
        flow = metrics.throughput()
        context["throughput"] = flow
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

from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.models import Heartbeat
from core.roles import marketer_required
from prospects.models import Prospect


@marketer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    counts = Prospect.objects.active().aggregate(
        total=Count("id"),
        in_crm=Count("id", filter=~Q(crm_lead_id="") | ~Q(crm_contact_id="")),
        assigned=Count("id", filter=Q(assigned_user__isnull=False)),
        do_not_sync=Count("id", filter=Q(do_not_sync=True)),
    )
    return render(
        request,
        "portal/dashboard.html",
        {"counts": counts, "heartbeats": Heartbeat.objects.order_by("name")},
    )


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

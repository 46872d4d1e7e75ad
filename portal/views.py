from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.roles import marketer_required


def _coming(request: HttpRequest, title: str, what: str) -> HttpResponse:
    return render(request, "portal/coming.html", {"title": title, "what": what})


@marketer_required
def imports(request: HttpRequest) -> HttpResponse:
    return _coming(request, "Imports", "CSV imports of prospects, with a line-by-line report.")


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

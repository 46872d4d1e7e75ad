"""Connector and field sync pages for Sync admins (issue 5)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.roles import sync_admin_required


@sync_admin_required
def connector_detail(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/coming.html",
        {"title": "Connector", "what": "The Salesforce connector's settings and verification."},
    )


@sync_admin_required
def field_rules(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/coming.html", {"title": "Field sync", "what": "Which system wins."}
    )

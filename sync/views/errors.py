"""Sync Errors pages (issue 7)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.roles import marketer_required


@marketer_required
def error_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/coming.html",
        {"title": "Sync Errors", "what": "Records Salesforce rejected, with the cause and a fix."},
    )

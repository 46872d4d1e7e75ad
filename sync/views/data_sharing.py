"""Marketing Data Sharing rules: which Salesforce records the connector may sync (issue 5)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import sync_admin_required
from sync import connectors, verification
from sync import describe as describes
from sync.forms import DataSharingRuleForm
from sync.models import DataSharingRule
from sync.salesforce import SalesforceError
from sync.views.connector import _require_connector


@sync_admin_required
def sharing_rules(request: HttpRequest) -> HttpResponse:
    """List the rules; add or replace one (the form) while the connector is paused."""
    connector = _require_connector()
    descs = describes.cached_describes(
        connector=connector, sobjects=("Lead", "Contact", "Opportunity")
    )
    existing = None
    if request.method == "POST" and request.POST.get("sobject"):
        existing = DataSharingRule.objects.filter(
            connector=connector, sobject=request.POST["sobject"].strip()
        ).first()
    form = DataSharingRuleForm(
        request.POST or None,
        instance=existing or DataSharingRule(connector=connector),
        describes_by_object=descs,
    )
    if request.method == "POST" and form.is_valid():
        try:
            connectors.save_sharing_rule(rule=form.instance, user=request.user)
        except (connectors.SettingsLocked, IntegrityError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Data sharing rule saved: {form.instance}.")
            return redirect("sync:data_sharing")
    changes = connector.changes.filter(subject__startswith="data sharing").select_related("user")
    return render(
        request,
        "sync/data_sharing.html",
        {
            "connector": connector,
            "attention": verification.problem_messages(connector),
            "form": form,
            "rules": connector.sharing_rules.all(),
            "changes": changes[:20],
            "locked": connector.state != connector.State.PAUSED,
        },
    )


@sync_admin_required
def sharing_count(request: HttpRequest) -> HttpResponse:
    """htmx: how many records a rule (typed so far) lets through, counted live in Salesforce."""
    connector = _require_connector()
    sobject = request.GET.get("sobject", "").strip()
    field = request.GET.get("field", "").strip()
    value = request.GET.get("value", "")
    context = {"sobject": sobject, "field": field, "value": value}
    if sobject and field:
        try:
            context["shared"], context["total"] = connectors.count_shared_records(
                connector=connector, sobject=sobject, field=field, value=value
            )
        except SalesforceError as exc:
            context["error"] = exc.message
    return render(request, "sync/data_sharing_count.html", context)


@sync_admin_required
@require_POST
def sharing_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connector = _require_connector()
    rule = get_object_or_404(DataSharingRule, pk=pk, connector=connector)
    try:
        connectors.delete_sharing_rule(rule=rule, user=request.user)
    except connectors.SettingsLocked as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Data sharing rule removed.")
    return redirect("sync:data_sharing")

"""Prospect custom fields, defined and mapped by Sync admins (issue 5)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.roles import sync_admin_required
from prospects.models import CustomField
from sync import connectors, mapping, verification
from sync import describe as describes
from sync.forms import CustomFieldForm
from sync.models import Connector
from sync.views.connector import _field_options


@sync_admin_required
def custom_field_list(request: HttpRequest) -> HttpResponse:
    connector = Connector.objects.current()
    fields = list(CustomField.objects.all())
    rules = {}
    checks = {}
    if connector is not None:
        rules = {
            rule.prospect_field: rule
            for rule in connector.field_rules.filter(
                prospect_field__startswith=mapping.CUSTOM_PREFIX
            )
        }
        descs = describes.cached_describes(connector=connector)
        if descs:
            checks = {
                name: mapping.check_rule(rule=rule, describes=descs) for name, rule in rules.items()
            }
    rows = [
        (
            field,
            rules.get(mapping.CUSTOM_PREFIX + field.api_name),
            checks.get(mapping.CUSTOM_PREFIX + field.api_name),
        )
        for field in fields
    ]
    return render(
        request,
        "sync/custom_fields.html",
        {
            "connector": connector,
            "attention": verification.problem_messages(connector) if connector else [],
            "rows": rows,
        },
    )


@sync_admin_required
def custom_field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    connector = Connector.objects.current()
    custom = get_object_or_404(CustomField, pk=pk) if pk else CustomField()
    descs = describes.cached_describes(connector=connector) if connector else {}
    rule = None
    initial = {}
    if connector is not None and custom.pk:
        rule = connector.field_rules.filter(
            prospect_field=mapping.CUSTOM_PREFIX + custom.api_name
        ).first()
        if rule:
            initial = {
                "lead_field": rule.lead_field,
                "contact_field": rule.contact_field,
                "behaviour": rule.behaviour,
            }
    form = CustomFieldForm(
        request.POST or None,
        instance=custom,
        initial=initial,
        describes_by_object=descs,
        connector=connector,
    )
    if request.method == "POST" and form.is_valid():
        try:
            connectors.save_custom_field(
                connector=connector,
                custom=form.instance,
                user=request.user,
                rule_values=form.rule_values(),
            )
        except (IntegrityError, connectors.SettingsLocked) as exc:
            form.add_error(None, f"Not saved: {exc}")
        else:
            messages.success(request, f"Custom field {form.instance.label} saved.")
            return redirect("sync:custom_fields")
    return render(
        request,
        "sync/custom_fields_form.html",
        {
            "connector": connector,
            "attention": verification.problem_messages(connector) if connector else [],
            "form": form,
            "custom": custom,
            "field_options": _field_options(descs),
        },
    )

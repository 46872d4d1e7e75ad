"""The Custom objects page: which Salesforce custom objects the connector mirrors (Sync admins)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import sync_admin_required
from crm.models import CustomObjectDefinition
from sync import custom_objects, verification
from sync.forms import CustomObjectForm
from sync.salesforce import Client, SalesforceError
from sync.views.connector import _require_connector


@sync_admin_required
def custom_object_list(request: HttpRequest) -> HttpResponse:
    """The mirrored objects; pick another (``?object=``) and its lookup and fields, or change one."""
    connector = _require_connector()
    chosen = (request.POST.get("object") or request.GET.get("object") or "").strip()
    context: dict = {
        "connector": connector,
        "attention": verification.problem_messages(connector),
        "definitions": CustomObjectDefinition.objects.annotate(record_count=Count("records")),
        "chosen": chosen,
        "objects": [],
        "form": None,
        "salesforce_error": "",
        "changes": connector.changes.filter(subject__startswith="custom object").select_related(
            "user"
        )[:20],
    }
    client = Client.for_connector(connector)
    try:
        context["objects"] = custom_objects.available_objects(client)
        if chosen:
            form = _form_for(request, client, chosen, context)
            if form is not None and request.method == "POST" and form.is_valid():
                definition = custom_objects.save_definition(
                    connector=connector,
                    describe=form.describe,
                    lookup=form.cleaned_data["lookup"],
                    fields=form.cleaned_data["shown"],
                    user=request.user,
                )
                messages.success(
                    request,
                    f"{definition.label} is mirrored; its records come with the next pull.",
                )
                return redirect("sync:custom_objects")
    except SalesforceError as exc:
        context["salesforce_error"] = f"Salesforce answered: {exc.message} ({exc.code})"
    return render(request, "sync/custom_objects.html", context)


def _form_for(
    request: HttpRequest, client: Client, chosen: str, context: dict
) -> CustomObjectForm | None:
    if chosen not in {o["name"] for o in context["objects"]}:
        context["salesforce_error"] = (
            f"{chosen} is not a custom object the connector user can read."
        )
        return None
    describe = client.describe(chosen, refresh=True)
    found = custom_objects.lookups(describe)
    existing = CustomObjectDefinition.objects.filter(api_name=chosen).first()
    initial = {}
    if existing:
        initial = {
            "lookup": f"{existing.lookup_field}:{existing.lookup_to}",
            "shown": existing.field_names,
        }
    form = CustomObjectForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        lookups=found,
        shown=custom_objects.shown_fields(describe),
    )
    form.describe = describe
    context.update(form=form, chosen_label=describe.get("label") or chosen, lookups=found)
    return form


@sync_admin_required
@require_POST
def custom_object_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop mirroring a custom object (its mirrored records go with it)."""
    connector = _require_connector()
    definition = get_object_or_404(CustomObjectDefinition, pk=pk)
    label = definition.label
    custom_objects.remove_definition(connector=connector, definition=definition, user=request.user)
    messages.success(request, f"{label} is no longer mirrored.")
    return redirect("sync:custom_objects")

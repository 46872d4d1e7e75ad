"""Bulk actions on the prospect list: pick an action, see how many prospects it will touch,
confirm; small ones run in the request, large ones as a task with a progress bar."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from automation.action_forms import ACTION_FORMS, styled
from automation.actions import InvalidActions, parse_actions
from automation.bulk import TASK_KIND, Scope, actions_json, allowed_types, run_bulk, summary
from core.models import Task
from core.roles import marketer_required


@marketer_required
def bulk_actions(request: HttpRequest) -> HttpResponse:
    """GET: the scope's count and the actions to pick from; with ``type``, that action's form.
    POST: the form checked and shown back for confirmation; with ``confirm``, applied."""
    data = request.POST if request.method == "POST" else request.GET
    scope = Scope.from_data(data)
    kind = data.get("type", "")
    allowed = allowed_types(request.user)
    if kind and kind not in ACTION_FORMS:
        raise Http404("No such action.")
    if kind and kind not in allowed:
        raise PermissionDenied("Only a Sync admin may use this action.")
    ids = scope.ids()
    context = {
        "scope": scope,
        "count": len(ids),
        "kind": kind,
        "choices": [(k, ACTION_FORMS[k].action_class.title) for k in allowed],
        "back": reverse("prospects:list") + (f"?{scope.querystring}" if scope.querystring else ""),
    }
    if not kind:
        return render(request, "automation/bulk_actions.html", context)
    form = styled(ACTION_FORMS[kind](data=request.POST if request.method == "POST" else None))
    context["form"] = form
    context["title"] = form.title
    if request.method != "POST":
        return render(request, "automation/bulk_actions.html", context)
    if "confirm" in request.POST:
        return _apply(request, scope, context)
    if form.is_valid():
        action = form.action()
        context["confirm"] = {"json": actions_json([action]), "description": action.describe()}
    return render(request, "automation/bulk_actions.html", context)


def _apply(request: HttpRequest, scope: Scope, context: dict) -> HttpResponse:
    try:
        actions = parse_actions(request.POST.get("actions", ""))
    except InvalidActions as exc:
        messages.error(request, " ".join(exc.errors))
        return render(request, "automation/bulk_actions.html", context)
    if any(a.type not in allowed_types(request.user) for a in actions):
        raise PermissionDenied("Only a Sync admin may use this action.")
    try:
        result, task = run_bulk(actions, scope, user=request.user)
    except Task.Unavailable as exc:
        messages.error(request, str(exc))
        return render(request, "automation/bulk_actions.html", context)
    if task is not None:
        return redirect("automation:bulk_task", pk=task.pk)
    for message in result.messages:
        messages.error(request, message)
    text = f"{', '.join(a.describe() for a in actions)}: {summary(result)}"
    (messages.warning if result.failed else messages.success)(request, text)
    return redirect(context["back"])


@marketer_required
def bulk_task(request: HttpRequest, pk: int) -> HttpResponse:
    """A large bulk action's progress and, once done, its report (the bar polls every 2 s)."""
    task = get_object_or_404(Task, pk=pk, kind=TASK_KIND, created_by=request.user)
    template = (
        "automation/_bulk_task.html"
        if request.headers.get("HX-Request")
        else "automation/bulk_task.html"
    )
    return render(request, template, {"task": task})

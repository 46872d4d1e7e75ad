"""The Scoring settings pages.

Marketers see the points, the decay and the grading profiles; Sync admins change them and run a
recompute. Saving rescores every prospect, and every changed score or grade is pushed to
Salesforce — Pardot warns of exactly that — so the change belongs to the role that answers for
the sync and its API budget.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.models import Task
from core.roles import is_sync_admin, marketer_required, sync_admin_required
from prospects.filters import GradingProfileFilter
from prospects.jobs import QUEUE, RECOMPUTE_KIND, recompute_job
from prospects.models import DEFAULT_POINTS, GradingProfile, ScoringRule, ScoringSettings
from prospects.models.scoring import RULED_TYPES
from prospects.scoring_forms import CriterionFormSet, DecayForm, GradingProfileForm, PointsForm
from prospects.tables import GradingProfileTable, ScoringRuleTable


@marketer_required
def scoring(request: HttpRequest) -> HttpResponse:
    """Points per activity type, decay, grading profiles and the last recompute."""
    points = ScoringRule.points_by_type()
    rules = ScoringRuleTable(
        [
            {
                "label": kind.label,
                "points": points[kind.value],
                "default": DEFAULT_POINTS.get(kind, 0),
            }
            for kind in RULED_TYPES
        ]
    )
    profiles = GradingProfileFilter(
        request.GET,
        queryset=GradingProfile.objects.prefetch_related("criteria").annotate(
            own_prospects=Count("prospects", filter=Q(prospects__archived_at__isnull=True))
        ),
    )
    table = GradingProfileTable(profiles.qs, can_edit=is_sync_admin(request.user))
    return render(
        request,
        "prospects/scoring.html",
        {
            "rules": rules,
            "settings": ScoringSettings.objects.filter(pk=1).first() or ScoringSettings(pk=1),
            "profiles": table,
            "filter": profiles,
            "task": Task.objects.filter(kind=RECOMPUTE_KIND).first(),
            "can_edit": is_sync_admin(request.user),
        },
    )


@sync_admin_required
def scoring_edit(request: HttpRequest) -> HttpResponse:
    """Change points and decay; changed points rescore everyone (a recompute task)."""
    options = ScoringSettings.objects.filter(pk=1).first() or ScoringSettings(pk=1)
    points = PointsForm(request.POST or None)
    decay = DecayForm(request.POST or None, instance=options)
    if request.method == "POST" and points.is_valid() and decay.is_valid():
        with transaction.atomic():
            changed = points.save(actor=request.user)
            decay.save()
            if changed:
                started = _start_recompute(request)
                if started is None:
                    transaction.set_rollback(True)
                    return render(
                        request, "prospects/scoring_edit.html", {"points": points, "decay": decay}
                    )
        if changed:
            messages.success(
                request, f"Saved. Rescoring every prospect ({len(changed)} type(s) changed)."
            )
        else:
            messages.success(request, "Saved.")
        return redirect("prospects:scoring")
    return render(request, "prospects/scoring_edit.html", {"points": points, "decay": decay})


@sync_admin_required
def grading_profile_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change a grading profile and its criteria; saving regrades (a recompute)."""
    profile = get_object_or_404(GradingProfile, pk=pk) if pk else GradingProfile()
    form = GradingProfileForm(request.POST or None, instance=profile)
    criteria = CriterionFormSet(request.POST or None, instance=profile, prefix="criteria")
    if request.method == "POST" and form.is_valid() and criteria.is_valid():
        with transaction.atomic():
            saved = form.save()
            criteria.instance = saved
            criteria.save()
            if _start_recompute(request) is None:
                transaction.set_rollback(True)
                return render(
                    request,
                    "prospects/grading_profile_form.html",
                    {"form": form, "criteria": criteria, "profile": profile},
                )
        messages.success(request, f"Profile “{saved.name}” saved. Regrading every prospect.")
        return redirect("prospects:scoring")
    return render(
        request,
        "prospects/grading_profile_form.html",
        {"form": form, "criteria": criteria, "profile": profile},
    )


@sync_admin_required
@require_POST
def grading_profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a profile: its prospects fall back to the default profile (regraded)."""
    profile = get_object_or_404(GradingProfile, pk=pk)
    with transaction.atomic():
        name = profile.name
        profile.delete()
        if _start_recompute(request) is None:
            transaction.set_rollback(True)
            return redirect("prospects:scoring")
    messages.success(request, f"Profile “{name}” deleted. Regrading every prospect.")
    return redirect("prospects:scoring")


@sync_admin_required
@require_POST
def scoring_recompute(request: HttpRequest) -> HttpResponse:
    """ "Recompute now": rescore and regrade every prospect in a background task."""
    if _start_recompute(request) is not None:
        messages.success(request, "Recomputing every score and grade.")
    return redirect("prospects:scoring")


@marketer_required
def scoring_task(request: HttpRequest, pk: int) -> HttpResponse:
    """The recompute's progress fragment, polled while it runs."""
    task = get_object_or_404(Task, pk=pk, kind=RECOMPUTE_KIND)
    return render(request, "prospects/_scoring_task.html", {"task": task})


def _start_recompute(request: HttpRequest) -> Task | None:
    """Enqueue the recompute after commit; without a job queue say so and start nothing."""
    try:
        return Task.enqueue(recompute_job, kind=RECOMPUTE_KIND, user=request.user, queue_name=QUEUE)
    except Task.Unavailable as exc:
        messages.error(request, str(exc))
        return None

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.roles import MarketerRequiredMixin, marketer_required
from prospects import edits
from prospects.assignment import note_assignment
from prospects.filters import ActivityFilter, ProspectFilter
from prospects.forms import ProspectForm
from prospects.list_tools import LIST_TOOLS
from prospects.models import CustomField, Prospect, SyncHistory, SyncReason
from prospects.scoring import regrade
from prospects.sync_requests import request_sync
from prospects.tables import ProspectTable


def sync_reason_for(changed: list[str]) -> SyncReason:
    """The trigger reason for an edit: campaign and assignment changes have their own."""
    if "assigned_user" in changed or "assigned_queue" in changed:
        return SyncReason.ASSIGNMENT_CHANGE
    if "campaign" in changed:
        return SyncReason.CAMPAIGN_CHANGE
    return SyncReason.FIELD_UPDATE


def shown_value(custom: CustomField, stored: object) -> object:
    """A custom value as the prospect page shows it (a multi-select's items comma-separated)."""
    if custom.type == CustomField.Type.MULTI_SELECT:
        return ", ".join(custom.split(stored))
    return stored


class ProspectListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = Prospect
    table_class = ProspectTable
    filterset_class = ProspectFilter
    template_name = "prospects/prospect_list.html"
    table_pagination = {"per_page": 25}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return Prospect.objects.active().select_related("assigned_user")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["list_tools"] = LIST_TOOLS
        return context


class ProspectDetailView(MarketerRequiredMixin, DetailView):
    model = Prospect
    template_name = "prospects/prospect_detail.html"

    def get_queryset(self):
        return Prospect.objects.select_related("assigned_user", "assigned_queue", "campaign")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["custom_fields"] = [
            (custom.label, shown_value(custom, self.object.get_field(custom.prospect_field)))
            for custom in CustomField.objects.all()
        ]
        context["history"] = self.object.sync_history.all()[:25]
        context["open_errors"] = self.object.sync_errors.filter(resolved_at__isnull=True)
        context.update(timeline_context(self.request, self.object))
        return context


TIMELINE_PAGE = 20


def timeline_context(request: HttpRequest, prospect: Prospect) -> dict:
    """One page of the prospect's activities, newest first, filtered by type when asked."""
    activities = ActivityFilter(request.GET, queryset=prospect.activities.select_related("actor"))
    paginator = Paginator(activities.qs, TIMELINE_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {"timeline": page, "timeline_filter": activities, "prospect": prospect}


@marketer_required
def activity_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline's next page ("Show more") or a type filter, as a fragment for htmx."""
    prospect = get_object_or_404(Prospect, pk=pk)
    template = (
        "prospects/_timeline_items.html" if request.GET.get("more") else "prospects/_timeline.html"
    )
    return render(request, template, timeline_context(request, prospect))


class ProspectCreateView(MarketerRequiredMixin, SuccessMessageMixin, CreateView):
    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"
    success_message = "Prospect %(email)s created."

    @transaction.atomic
    def form_valid(self, form):
        response = super().form_valid(form)
        entered = [name for name in form.value_fields if name in form.changed_data]
        self.object.stamp_changes(entered)
        self.object.save(update_fields=["field_changed_at"])
        SyncHistory.objects.record_action(
            [self.object.pk],
            actor=self.request.user,
            operation="create",
            reason=SyncReason.FIELD_UPDATE,
            changes=[
                {"field": name, "new": edits.jsonable(self.object.get_field(name))}
                for name in entered
            ],
        )
        request_sync(self.object, SyncReason.FIELD_UPDATE)
        return response


class ProspectUpdateView(MarketerRequiredMixin, UpdateView):
    """Edit a prospect: only what the marketer changed is saved, under a row lock, and a field
    that changed underneath too is shown as a conflict instead (see ``prospects.edits``)."""

    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            self.object = self.get_object(Prospect.objects.select_for_update())
            form = self.get_form()
            changed = save_edit(form=form, actor=request.user) if form.is_valid() else None
        if changed is None:
            return self.form_invalid(form)
        if not changed:
            messages.info(request, "Nothing changed.")
        else:
            messages.success(request, f"Saved {len(changed)} change(s); syncing.")
        return redirect(self.object)


def save_edit(*, form: ProspectForm, actor) -> list[str]:
    """Save what the marketer changed (the form is bound to the locked prospect) and ask for a
    sync; returns the fields saved (none: nothing changed)."""
    values = form.edits()
    if not values:
        return []
    reason = sync_reason_for(list(values))
    edits.save_changes(
        prospect=form.prospect,
        values=values,
        actor=actor,
        operation="edit",
        reason=reason,
        definitions=form.definitions,
    )
    if "grade" not in values:  # a new job title or company size may move it
        regrade(prospect_ids=[form.prospect.pk])
    if reason == SyncReason.ASSIGNMENT_CHANGE:
        prospect = form.prospect
        note_assignment(prospect.pk, prospect.assigned_user or prospect.assigned_queue, actor=actor)
    request_sync(form.prospect, reason)
    return list(values)


@marketer_required
@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Sync with CRM" button: queue the prospect and answer with the polling status."""
    prospect = get_object_or_404(Prospect, pk=pk)
    with transaction.atomic():
        request_sync(prospect, SyncReason.MANUAL)
        SyncHistory.objects.record_action(
            [prospect.pk], actor=request.user, operation="sync request", reason=SyncReason.MANUAL
        )
    prospect.refresh_from_db()
    return sync_status(request, pk)


@marketer_required
def sync_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The prospect's sync status fragment; it keeps polling while the sync is pending."""
    prospect = get_object_or_404(Prospect.objects.select_related("assigned_user"), pk=pk)
    return render(
        request,
        "prospects/_sync_status.html",
        {
            "prospect": prospect,
            "history": prospect.sync_history.all()[:25],
            "open_errors": prospect.sync_errors.filter(resolved_at__isnull=True),
        },
    )

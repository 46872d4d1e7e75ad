from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.roles import MarketerRequiredMixin, marketer_required
from prospects.filters import ProspectFilter
from prospects.forms import ProspectForm
from prospects.models import CustomField, Prospect
from prospects.tables import ProspectTable
from sync.models import SyncReason
from sync.triggers import request_sync


def sync_reason_for(changed: list[str]) -> SyncReason:
    """The trigger reason for an edit: campaign and assignment changes have their own."""
    if "assigned_user" in changed or "assigned_queue" in changed:
        return SyncReason.ASSIGNMENT_CHANGE
    if "campaign" in changed:
        return SyncReason.CAMPAIGN_CHANGE
    return SyncReason.FIELD_UPDATE


class ProspectListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = Prospect
    table_class = ProspectTable
    filterset_class = ProspectFilter
    template_name = "prospects/prospect_list.html"
    paginate_by = 25

    def get_queryset(self):
        return Prospect.objects.active().select_related("assigned_user")


class ProspectDetailView(MarketerRequiredMixin, DetailView):
    model = Prospect
    template_name = "prospects/prospect_detail.html"

    def get_queryset(self):
        return Prospect.objects.select_related("assigned_user", "assigned_queue", "campaign")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        values = self.object.custom_fields or {}
        context["custom_fields"] = [
            (custom.label, values.get(custom.api_name)) for custom in CustomField.objects.all()
        ]
        context["history"] = self.object.sync_history.all()[:25]
        context["open_errors"] = self.object.sync_errors.filter(resolved_at__isnull=True)
        return context


class ProspectCreateView(MarketerRequiredMixin, SuccessMessageMixin, CreateView):
    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"
    success_message = "Prospect %(email)s created."

    @transaction.atomic
    def form_valid(self, form):
        response = super().form_valid(form)
        self.object.stamp_changes(form.changed_data)
        self.object.save(update_fields=["field_changed_at"])
        request_sync(self.object, SyncReason.FIELD_UPDATE)
        return response


class ProspectUpdateView(MarketerRequiredMixin, UpdateView):
    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"

    @transaction.atomic
    def form_valid(self, form):
        if not form.changed_data:
            messages.info(self.request, "Nothing changed.")
            return redirect(self.object)
        form.instance.stamp_changes(form.changed_data)
        response = super().form_valid(form)
        request_sync(self.object, sync_reason_for(form.changed_data))
        messages.success(self.request, f"Saved {len(form.changed_data)} change(s); syncing.")
        return response


@require_POST
@marketer_required
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Sync with CRM" button: queue the prospect and answer with the polling status."""
    prospect = get_object_or_404(Prospect, pk=pk)
    with transaction.atomic():
        request_sync(prospect, SyncReason.MANUAL)
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

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from portal.roles import MarketerRequiredMixin
from prospects.filters import ProspectFilter
from prospects.forms import ProspectForm
from prospects.models import Prospect
from prospects.tables import ProspectTable


class ProspectListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = Prospect
    table_class = ProspectTable
    filterset_class = ProspectFilter
    template_name = "prospects/prospect_list.html"
    paginate_by = 50

    def get_queryset(self):
        return Prospect.objects.active().select_related("assigned_user")


class ProspectDetailView(MarketerRequiredMixin, DetailView):
    model = Prospect
    template_name = "prospects/prospect_detail.html"

    def get_queryset(self):
        return Prospect.objects.select_related("assigned_user", "campaign")


class ProspectCreateView(MarketerRequiredMixin, SuccessMessageMixin, CreateView):
    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"
    success_message = "Prospect %(email)s created."


class ProspectUpdateView(MarketerRequiredMixin, UpdateView):
    model = Prospect
    form_class = ProspectForm
    template_name = "prospects/prospect_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.changed_data:
            messages.success(self.request, f"Saved {len(form.changed_data)} change(s).")
        else:
            messages.info(self.request, "Nothing changed.")
        return response

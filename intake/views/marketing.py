"""Marketer pages: lists and editors of form handlers, forms and landing pages, and the
preference-centre links of a prospect (shown on its page)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import CreateView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.roles import MarketerRequiredMixin, marketer_required
from intake import filters, forms, tables
from intake.form_models import Form, FormHandler, LandingPage
from intake.preferences import links_for
from prospects.models import Prospect

# (label, list url name): the tabs over the three lists.
TABS = [
    ("Forms", "intake:form_list"),
    ("Form handlers", "intake:handler_list"),
    ("Landing pages", "intake:page_list"),
]


class _List(MarketerRequiredMixin, SingleTableMixin, FilterView):
    template_name = "intake/list.html"
    table_pagination = {"per_page": 25}  # the table paginates; the view must not count twice
    title = ""
    create_url = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, create_url=self.create_url, tabs=TABS)
        return context


class FormListView(_List):
    model = Form
    table_class = tables.FormTable
    filterset_class = filters.FormFilter
    title, create_url = "Forms", "intake:form_create"

    def get_queryset(self):
        return Form.objects.select_related("campaign")


class FormHandlerListView(_List):
    model = FormHandler
    table_class = tables.FormHandlerTable
    filterset_class = filters.FormHandlerFilter
    title, create_url = "Form handlers", "intake:handler_create"

    def get_queryset(self):
        return FormHandler.objects.select_related("campaign")


class LandingPageListView(_List):
    model = LandingPage
    table_class = tables.LandingPageTable
    filterset_class = filters.LandingPageFilter
    title, create_url = "Landing pages", "intake:page_create"

    def get_queryset(self):
        return LandingPage.objects.select_related("form")


class _WithFields(MarketerRequiredMixin):
    """An editor with its inline field rows (a form's fields, a handler's mappings), saved
    together or not at all."""

    template_name = "intake/edit.html"
    formset_class = None
    kind = ""
    list_url = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "formset" not in context:
            context["formset"] = self.formset_class(instance=self.object)
        context.update(kind=self.kind, list_url=self.list_url, tabs=TABS)
        if self.object is not None and self.object.pk:
            context["public_url"] = self.request.build_absolute_uri(self.object.get_public_url())
        return context

    def post(self, request, *args, **kwargs):
        self.object = self.get_object() if kwargs.get("pk") else None
        form = self.get_form()
        formset = self.formset_class(request.POST, instance=self.object or self.model())
        if form.is_valid() and formset.is_valid():
            with transaction.atomic():
                self.object = form.save()
                formset.instance = self.object
                formset.save()
            messages.success(request, f"{self.kind} “{self.object}” saved.")
            return redirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form, formset=formset))


class FormCreateView(_WithFields, CreateView):
    model, form_class, formset_class = Form, forms.FormForm, forms.FormFieldFormSet
    kind, list_url = "Form", "intake:form_list"


class FormUpdateView(_WithFields, UpdateView):
    model, form_class, formset_class = Form, forms.FormForm, forms.FormFieldFormSet
    kind, list_url = "Form", "intake:form_list"


class FormHandlerCreateView(_WithFields, CreateView):
    model, form_class, formset_class = FormHandler, forms.FormHandlerForm, forms.HandlerFieldFormSet
    kind, list_url = "Form handler", "intake:handler_list"


class FormHandlerUpdateView(_WithFields, UpdateView):
    model, form_class, formset_class = FormHandler, forms.FormHandlerForm, forms.HandlerFieldFormSet
    kind, list_url = "Form handler", "intake:handler_list"


class _PageEditor(MarketerRequiredMixin):
    model, form_class = LandingPage, forms.LandingPageForm
    template_name = "intake/edit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(kind="Landing page", list_url="intake:page_list", tabs=TABS)
        if self.object is not None and self.object.pk:
            context["public_url"] = self.request.build_absolute_uri(self.object.get_public_url())
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Landing page “{self.object}” saved.")
        return response


class LandingPageCreateView(_PageEditor, CreateView):
    pass


class LandingPageUpdateView(_PageEditor, UpdateView):
    pass


@marketer_required
def preference_links(request, pk: int):
    """The prospect's preference-centre links, to copy into an email (an htmx fragment of the
    prospect page)."""
    prospect = get_object_or_404(Prospect, pk=pk)
    base = settings.PORTAL_URL or request.build_absolute_uri("/")
    links = links_for(prospect, base_url=base)
    return render(request, "intake/preference_links.html", {"links": links, "prospect": prospect})

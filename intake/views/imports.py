"""The Imports page: upload → map columns and choose options → progress → report; history.

Thin views: each checks the role, binds a form and calls ``intake.imports``. An import is seen
by whoever started it and by Sync admins (as Tasks are).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from core.roles import MarketerRequiredMixin, marketer_required
from crm.forms.campaigns import SEPARATOR
from intake import imports
from intake import mapping as mappings
from intake.filters import ImportFilter
from intake.forms import MappingForm, UploadForm
from intake.models import Import, ImportTemplate
from intake.reading import ENCODING_LABELS
from intake.tables import ImportProblemTable, ImportTable

POLL_EVERY = "1s"


class ImportListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    """Import history: who, when, file, state, counts, links to each import and its report."""

    model = Import
    table_class = ImportTable
    filterset_class = ImportFilter
    template_name = "intake/imports.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return Import.objects.visible_to(self.request.user).select_related("created_by")


def _own(request: HttpRequest, pk: int) -> Import:
    return get_object_or_404(Import.objects.visible_to(request.user), pk=pk)


@marketer_required
def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; it is read at once (encoding, delimiter, header) and the mapping follows.

    A body over the limit is refused from its Content-Length, before Django reads it."""
    form = UploadForm()
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > imports.MAX_UPLOAD_BYTES + 64 * 1024:
            context = {"form": form, "refused": imports.too_large_message(length)}
            return render(request, "intake/import_new.html", context, status=413)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                run = imports.receive_upload(
                    user=request.user, uploaded_file=form.cleaned_data["file"]
                )
            except imports.ImportRefused as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            else:
                return redirect("intake:import_map", pk=run.pk)
    return render(request, "intake/import_new.html", {"form": form})


def _templates(user):
    return ImportTemplate.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


@marketer_required
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Map each column to a prospect field (guessed, or from a saved template), choose the
    options and when to run."""
    run = _own(request, pk)
    if run.state != Import.State.DRAFT:
        return redirect(run)
    templates = _templates(request.user)
    template = None
    if request.GET.get("template", "").isdigit():
        template = templates.filter(pk=request.GET["template"]).first()
    if template is not None:
        initial_mapping = mappings.from_template(run.headers, template.mapping)
        initial = _initial_options(template.options)
    else:
        initial_mapping, initial = mappings.guess_mapping(run.headers), {}
    form = MappingForm(
        request.POST or None, headers=run.headers, initial_mapping=initial_mapping, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            imports.submit_import(
                run, mapping=form.mapping(), options=form.options(), run_at=form.scheduled_time()
            )
        except imports.ImportRefused as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            _save_template(request, run, form)
            return redirect(run)
    context = {
        "run": run,
        "form": form,
        "rows": imports.preview(run),
        "duplicates": mappings.duplicate_headers(run.headers),
        "templates": templates,
        "template": template,
        "encoding_label": ENCODING_LABELS.get(run.encoding, run.encoding),
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "intake/import_map.html", context)


def _initial_options(saved: dict) -> dict:
    options = imports.ImportOptions.from_dict(saved)
    return {
        "overwrite": "1" if options.overwrite else "0",
        "create": options.create,
        "assign_user": options.assign_user_id,
        "assign_queue": options.assign_queue_id,
        "campaign": options.campaign_id,
        "validate_values": options.validate_values,
        "salesforce_campaign": (
            f"{options.salesforce_campaign_id}{SEPARATOR}{options.campaign_member_status}"
            if options.salesforce_campaign_id
            else ""
        ),
    }


def _save_template(request: HttpRequest, run: Import, form: MappingForm) -> None:
    name = form.cleaned_data["template_name"].strip()
    if not name:
        return
    ImportTemplate.objects.update_or_create(
        owner=request.user,
        name=name,
        defaults={
            "mapping": mappings.for_template(run.headers, form.mapping()),
            "options": form.options().as_dict(),
            "shared": form.cleaned_data["template_shared"],
        },
    )
    messages.success(request, f"Mapping saved as the template “{name}”.")


@marketer_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's progress while it runs (polled with htmx), then its counts and refusals."""
    run = _own(request, pk)
    if run.state == Import.State.DRAFT:
        return redirect("intake:import_map", pk=run.pk)
    problems = ImportProblemTable(run.problems.all())
    RequestConfig(request, paginate={"per_page": 50}).configure(problems)
    context = {
        "run": run,
        "problems": problems,
        "polling": run.active,
        "poll_every": POLL_EVERY,
        "mapping": _mapping_shown(run),
    }
    template = "intake/import_detail.html"
    if request.headers.get("HX-Request"):
        template = "intake/import_status.html"
    return render(request, template, context)


def _mapping_shown(run: Import) -> list[tuple[str, str]]:
    """(header, field label) for each mapped column, in the file's order."""
    labels = dict(mappings.field_choices())
    shown = []
    for index, field in sorted(run.mapping.items(), key=lambda item: int(item[0])):
        header = run.headers[int(index)] if int(index) < len(run.headers) else f"column {index}"
        shown.append((header, labels.get(field, field)))
    return shown


@marketer_required
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _own(request, pk)
    if imports.cancel_import(run):
        messages.info(request, "The import was cancelled.")
    else:
        messages.warning(request, "The import had already finished.")
    return redirect(run)


@marketer_required
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The row report as CSV (line, column, value, reason), safe to open in a spreadsheet."""
    run = _own(request, pk)
    response = StreamingHttpResponse(
        imports.report_lines(run), content_type="text/csv; charset=utf-8"
    )
    stem = run.file_name.rsplit(".", 1)[0] or "import"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:60]
    response["Content-Disposition"] = f'attachment; filename="{safe}-report-{run.pk}.csv"'
    return response

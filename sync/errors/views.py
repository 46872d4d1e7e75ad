"""Sync Errors pages (issue 7): the table, one error's root cause, resync, CSV out and back in.

Views stay thin: check the role, bind a form or filter, call one function in ``sync.errors``
or enqueue one job in ``sync.errors.jobs``, render.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cached_property, partial
from urllib.parse import urlencode

import django_rq
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.models import Task
from core.roles import MarketerRequiredMixin, marketer_required
from sync.errors import jobs as jobs_errors
from sync.errors.csv_io import export_lines
from sync.errors.filters import SyncErrorFilter
from sync.errors.fix import FixForm, fix_value, root_cause
from sync.errors.records import open_counts_by_category
from sync.errors.resync import resync_error
from sync.errors.tables import SyncErrorTable
from sync.models import Connector, ErrorCategory, FieldRule, SyncError, SyncHistory, SyncReason

IMPORTS_QUEUE = "imports"
UPLOAD_DIR = settings.VAR_DIR / "uploads"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_SELECTED = 500
TASK_SHOWN_FOR = dt.timedelta(minutes=10)


class ErrorListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    """The Sync Errors table: open errors by default, newest first, 50 a page."""

    model = SyncError
    table_class = SyncErrorTable
    filterset_class = SyncErrorFilter
    template_name = "sync/errors.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return SyncError.objects.all()

    def get_table_pagination(self, table):
        """Open errors, all or of one category: the total is the tabs' cached count (the same
        number the tab shows, without a second COUNT over a million rows)."""
        options = super().get_table_pagination(table)
        known = _tab_count(self.filterset)
        if known is not None:
            options["paginator_class"] = partial(CountedPaginator, known_count=known)
        return options

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["counts"] = _category_tabs(params)
        context["querystring"] = params.urlencode()
        context["task"] = _running_task(self.request)
        return context


error_list = ErrorListView.as_view()


class CountedPaginator(Paginator):
    """A paginator told its count (from a cache) instead of running COUNT(*)."""

    def __init__(self, *args, known_count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        return self.known_count

    def page(self, number):
        """Slice by ``per_page`` only: a count a few seconds old must never hide rows."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def _tab_count(filterset: SyncErrorFilter) -> int | None:
    """The cached open count when the filter is just "open" (and maybe a category)."""
    if not filterset.is_valid():
        return None
    data = filterset.form.cleaned_data
    narrowing = {k: v for k, v in data.items() if k not in ("status", "category")}
    if data.get("status") != "open" or any(_set(v) for v in narrowing.values()):
        return None
    counts = open_counts_by_category()
    return counts.get(data["category"], 0) if data.get("category") else sum(counts.values())


def _set(value) -> bool:
    if isinstance(value, slice):
        return value.start is not None or value.stop is not None
    return value not in (None, "", [])


def _category_tabs(params) -> list[dict]:
    counts = open_counts_by_category()
    current = params.get("category", "")
    tabs = [{"value": "", "label": "All open", "count": sum(counts.values())}]
    tabs += [{"value": v, "label": label, "count": counts[v]} for v, label in ErrorCategory.choices]
    for tab in tabs:
        query = params.copy()
        query.pop("category", None)
        if tab["value"]:
            query["category"] = tab["value"]
        tab["query"] = query.urlencode()
        tab["active"] = tab["value"] == current
    return tabs


def _running_task(request: HttpRequest) -> Task | None:
    """The user's last bulk resync, while it runs and for a few minutes after."""
    task_id = request.session.get("errors_task")
    if not task_id:
        return None
    recent = Q(finished_at__isnull=True) | Q(finished_at__gte=timezone.now() - TASK_SHOWN_FOR)
    return Task.objects.filter(recent, pk=task_id).first()


@marketer_required
def error_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One error: the field, the value sent, the rule broken, and the guide's two ways out."""
    error = get_object_or_404(SyncError.objects.select_related("prospect", "connector"), pk=pk)
    cause = root_cause(error=error)
    form = FixForm(request.POST or None, prospect=error.prospect, name=cause.prospect_field)
    if request.method == "POST" and cause.prospect_field and error.prospect and form.is_valid():
        try:
            fix_value(
                prospect=error.prospect,
                name=cause.prospect_field,
                raw=form.cleaned_data["value"],
                shown=form.cleaned_data["shown"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("value", exc)
        else:
            if "resync" in request.POST:
                result = resync_error(error=error)
                level = messages.SUCCESS if result.state == "cleared" else messages.WARNING
                messages.add_message(request, level, result.message or "Resynced.")
            else:
                messages.success(request, "Saved; a sync is requested. Resync to see it now.")
            return redirect("sync:error_detail", pk=error.pk)
    context = {
        "error": error,
        "cause": cause,
        "form": form,
        "others": SyncError.objects.open()
        .filter(prospect_id=error.prospect_id)
        .exclude(pk=error.pk)[:20]
        if error.prospect_id
        else [],
        "rule": _rule_for(error),
        "group_query": urlencode({"error_code": error.error_code, "field": error.field}),
    }
    return render(request, "sync/error_detail.html", context)


def _rule_for(error: SyncError) -> FieldRule | None:
    return FieldRule.objects.targeting(error.sobject, error.field).first()


@require_POST
@marketer_required
def error_resync(request: HttpRequest, pk: int) -> HttpResponse:
    """Resync one row's prospect now; answer with the row(s) that replace it."""
    error = get_object_or_404(SyncError, pk=pk)
    SyncHistory.objects.record_action(
        [error.prospect_id] if error.prospect_id else [],
        actor=request.user,
        operation="resync",
        reason=SyncReason.ERROR_RESYNC,
    )
    result = resync_error(error=error)
    table = SyncErrorTable(result.errors, request=request)
    return render(
        request,
        "sync/errors_row.html",
        {"error": error, "result": result, "rows": table.rows, "columns": len(table.columns)},
    )


@require_POST
@marketer_required
def errors_bulk_resync(request: HttpRequest) -> HttpResponse:
    """Resync the selected rows, or everything the filter matches, in an RQ job with progress."""
    if request.POST.get("scope") == "filter":
        kwargs = {"querystring": request.POST.get("querystring", "")}
    else:
        ids = [int(i) for i in request.POST.getlist("select") if i.isdigit()][:MAX_SELECTED]
        prospects = SyncError.objects.filter(pk__in=ids, prospect__isnull=False)
        kwargs = {"prospect_ids": sorted(set(prospects.values_list("prospect_id", flat=True)))}
        if not kwargs["prospect_ids"]:
            return HttpResponse(
                '<div class="alert alert-warning py-2 small">Select the rows to resync first '
                "(the checkboxes on the left).</div>"
            )
    task = Task.objects.create(kind="errors_resync", created_by=request.user)
    _enqueue(jobs_errors.resync_job, task.pk, **kwargs)
    request.session["errors_task"] = task.pk
    task.refresh_from_db()  # with no worker configured the job has already run
    return _task_fragment(request, task)


@marketer_required
def errors_task(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled every second while the job runs)."""
    task = get_object_or_404(Task, pk=pk, kind__startswith="errors_")
    return _task_fragment(request, task)


def _task_fragment(request: HttpRequest, task: Task) -> HttpResponse:
    shown = request.POST.get("visible") or request.GET.get("visible", "")
    visible = [int(i) for i in shown.split(",") if i.isdigit()][:200]
    touched = SyncError.objects.filter(pk__in=visible).filter(
        Q(resolved_at__isnull=False) | Q(last_seen_at__gte=task.created_at)
    )
    cleared = [e for e in touched if e.resolved_at]
    failed_again = SyncErrorTable([e for e in touched if not e.resolved_at], request=request)
    context = {"task": task, "cleared": cleared, "failed_again": failed_again.rows}
    return render(request, "sync/errors_task.html", context)


def _enqueue(job, *args, **kwargs) -> None:
    """Enqueue after commit; with no Redis the job runs now (nothing is lost either way)."""

    def send() -> None:
        if getattr(settings, "SYNC_ERRORS_JOBS_INLINE", False):
            job(*args, **kwargs)
            return
        try:
            queue = django_rq.get_queue(IMPORTS_QUEUE)
            queue.enqueue(job, *args, **kwargs, job_timeout=3600)
        except Exception:  # noqa: BLE001 - Redis down or not configured: run in-process
            job(*args, **kwargs)

    transaction.on_commit(send)


@marketer_required
def errors_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filter as CSV, streamed (constant memory whatever the size)."""
    errors = SyncErrorFilter(request.GET, queryset=SyncError.objects.all()).qs
    connector = Connector.objects.current()
    response = StreamingHttpResponse(
        export_lines(errors=errors, connector=connector), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="sync-errors-{stamp}.csv"'
    return response


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Corrected CSV",
        help_text="The file exported from this page, edited in a spreadsheet and saved as CSV.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv", "class": "form-control"}),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is {upload.size / 1e6:.0f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB. Export a narrower filter."
            )
        return upload


@marketer_required
def errors_import(request: HttpRequest) -> HttpResponse:
    """Upload a corrected export; an RQ job applies it and resyncs (the guide's option 2)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        path = _save_upload(form.cleaned_data["file"])
        task = Task.objects.create(
            kind="errors_import", created_by=request.user, message="Reading the file…"
        )
        _enqueue(jobs_errors.import_job, task.pk, str(path))
        return redirect("sync:errors_import_report", pk=task.pk)
    return render(request, "sync/errors_import.html", {"form": form})


def _save_upload(upload: UploadedFile):
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = UPLOAD_DIR / f"errors-{uuid.uuid4().hex}.csv"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@marketer_required
def errors_import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's progress, then its report: rows applied, rows refused with line and reason."""
    task = get_object_or_404(Task, pk=pk, kind="errors_import")
    template = "sync/errors_import_report.html"
    if request.headers.get("HX-Request"):
        template = "sync/errors_import_status.html"
    return render(
        request, template, {"task": task, "report": task.result, "back": reverse("sync:errors")}
    )

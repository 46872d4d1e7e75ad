"""Sync Errors pages (issue 7): the table, one error's root cause, resync, CSV out and back in.

Views stay thin: check the role, bind a form or filter, call one function in ``sync.errors``
or enqueue one job in ``sync.errors.jobs``, render.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from functools import cached_property, partial
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.models import Task
from core.roles import MarketerRequiredMixin, is_sync_admin, marketer_required
from prospects.models import SyncHistory, SyncReason
from sync.errors import jobs as jobs_errors
from sync.errors.csv_io import export_lines
from sync.errors.filters import SyncErrorFilter
from sync.errors.fix import FixForm, fix_value, root_cause
from sync.errors.records import open_counts_by_category
from sync.errors.resync import (
    ResyncProgress,
    RowResult,
    resync_error,
    resync_progress,
    resync_state,
)
from sync.errors.tables import SyncErrorTable
from sync.models import Connector, ErrorCategory, FieldRule, SyncError

UPLOAD_DIR = settings.VAR_DIR / "uploads"
UPLOAD_KEPT_FOR = dt.timedelta(days=1)  # an upload older than this was orphaned by a dead worker
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
        task = _running_task(self.request)
        if task:
            context.update(_task_context(task))
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
    return Task.objects.filter(recent, pk=task_id, created_by=request.user).first()


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
            messages.success(request, "Saved; the prospect is queued for sync.")
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
        "result": resync_state(error=error),
        "group_query": urlencode({"error_code": error.error_code, "field": error.field}),
    }
    return render(request, "sync/error_detail.html", context)


def _rule_for(error: SyncError) -> FieldRule | None:
    return FieldRule.objects.targeting(error.sobject, error.field).first()


@marketer_required
@require_POST
def error_resync(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue one row's prospect for sync; answer with the "queued" row, which then polls
    ``error_status`` until the sync workers settle it. No Salesforce call in the request."""
    error = get_object_or_404(SyncError, pk=pk)
    SyncHistory.objects.record_action(
        [error.prospect_id] if error.prospect_id else [],
        actor=request.user,
        operation="resync",
        reason=SyncReason.ERROR_RESYNC,
    )
    return _row(request, error, resync_error(error=error))


@marketer_required
def error_status(request: HttpRequest, pk: int) -> HttpResponse:
    """What became of a row's resync (polled every 2 s while pending): the table row(s), or
    with ``on=detail`` the status box of the detail page."""
    error = get_object_or_404(SyncError, pk=pk)
    result = resync_state(error=error)
    if request.GET.get("on") == "detail":
        context = {"error": error, "result": result, "settled_shown": True}
        return render(request, "sync/error_sync_status.html", context)
    return _row(request, error, result)


def _row(request: HttpRequest, error: SyncError, result: RowResult) -> HttpResponse:
    table = SyncErrorTable(result.errors, request=request)
    return render(
        request,
        "sync/errors_row.html",
        {"error": error, "result": result, "rows": table.rows, "columns": len(table.columns)},
    )


@marketer_required
@require_POST
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
    try:
        task = Task.enqueue(
            jobs_errors.resync_job,
            kind="errors_resync",
            user=request.user,
            queue_name=jobs_errors.QUEUE,
            **kwargs,
        )
    except Task.Unavailable as exc:
        return HttpResponse(format_html('<div class="alert alert-danger py-2 small">{}</div>', exc))
    request.session["errors_task"] = task.pk
    return _task_fragment(request, task)


@marketer_required
def errors_task(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled every 2 s until the queue has settled every prospect)."""
    return _task_fragment(request, _own_task(request, pk, "errors_resync"))


def _own_task(request: HttpRequest, pk: int, kind: str) -> Task:
    """A task of ``kind``, shown to the user who started it and to Sync admins only."""
    task = get_object_or_404(Task, pk=pk, kind=kind)
    if task.created_by_id != request.user.pk and not is_sync_admin(request.user):
        raise PermissionDenied
    return task


def _task_fragment(request: HttpRequest, task: Task) -> HttpResponse:
    shown = request.POST.get("visible") or request.GET.get("visible", "")
    visible = [int(i) for i in shown.split(",") if i.isdigit()][:200]
    touched = SyncError.objects.filter(pk__in=visible).filter(
        Q(resolved_at__isnull=False) | Q(last_seen_at__gte=task.created_at)
    )
    cleared = [e for e in touched if e.resolved_at]
    failed_again = SyncErrorTable([e for e in touched if not e.resolved_at], request=request)
    context = {**_task_context(task), "cleared": cleared, "failed_again": failed_again.rows}
    return render(request, "sync/errors_task.html", context)


def _task_context(task: Task) -> dict:
    """A task's progress and how its page polls: every 2 s, every 10 s while the connector is
    paused (its prospects wait for the resume), not at all once everything settled."""
    progress = _progress(task)
    paused = progress is not None and not progress.settled and Connector.objects.syncing() is None
    return {
        "task": task,
        "progress": progress,
        "polling": _polling(task, progress),
        "paused": paused,
        "poll_every": "10s" if paused else "2s",
    }


def _progress(task: Task) -> ResyncProgress | None:
    """Once the job has queued its prospects: how far the sync workers got with them."""
    if task.state != Task.State.DONE:
        return None
    return resync_progress(prospect_ids=task.result.get("prospect_ids", []))


def _polling(task: Task, progress: ResyncProgress | None) -> bool:
    """The page polls while the job runs, then while the queue still holds its prospects."""
    return not task.finished or (progress is not None and not progress.settled)


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
        try:
            task = Task.enqueue(
                jobs_errors.import_job,
                str(path),
                kind="errors_import",
                user=request.user,
                queue_name=jobs_errors.QUEUE,
                message="Reading the file…",
            )
        except Task.Unavailable as exc:
            path.unlink(missing_ok=True)
            form.add_error(None, str(exc))
        else:
            return redirect("sync:errors_import_report", pk=task.pk)
    return render(request, "sync/errors_import.html", {"form": form})


def _save_upload(upload: UploadedFile) -> Path:
    """Keep the upload for the imports worker (it deletes it when done); sweep away what a
    killed worker left behind."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    stale = time.time() - UPLOAD_KEPT_FOR.total_seconds()
    for old in UPLOAD_DIR.glob("errors-*.csv"):
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    path = UPLOAD_DIR / f"errors-{uuid.uuid4().hex}.csv"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@marketer_required
def errors_import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's progress, then its report: rows applied, rows refused with line and reason,
    and how the sync of the prospects it changed is going."""
    task = _own_task(request, pk, "errors_import")
    template = "sync/errors_import_report.html"
    if request.headers.get("HX-Request"):
        template = "sync/errors_import_status.html"
    context = {**_task_context(task), "report": task.result, "back": reverse("sync:errors")}
    return render(request, template, context)

"""RQ jobs of the Sync Errors page: bulk resync and CSV re-import, with progress on a Task."""

from __future__ import annotations

from pathlib import Path

from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from core.models import Task
from sync.errors.csv_io import import_file
from sync.errors.filters import SyncErrorFilter
from sync.errors.resync import ResyncReport, resync_in_chunks
from sync.models import SyncError, SyncHistory, SyncReason


def matching_prospect_ids(querystring: str) -> list[int]:
    """Prospects with an open error matching the page's filter (the "resync all" scope)."""
    errors = SyncErrorFilter(QueryDict(querystring), queryset=SyncError.objects.all()).qs
    ids = errors.filter(resolved_at__isnull=True, prospect__isnull=False)
    return sorted(set(ids.values_list("prospect_id", flat=True).order_by()))


def resync_job(task_id: int, prospect_ids: list[int] | None = None, querystring: str = "") -> None:
    """Resync the given prospects (or those the filter matches), reporting progress per chunk."""
    task = _start(task_id)
    ids = prospect_ids if prospect_ids is not None else matching_prospect_ids(querystring)
    SyncHistory.objects.record_action(
        ids, actor=task.created_by, operation="resync", reason=SyncReason.ERROR_RESYNC
    )
    Task.objects.filter(pk=task.pk).update(total=len(ids))
    queued = _resync(task, ids)
    _finish(task, message=_summary("Resync finished.", queued))


def import_job(task_id: int, path: str) -> None:
    """Apply an uploaded corrected export, then resync the prospects it touched."""
    task = _start(task_id)
    report = import_file(
        Path(path), progress=lambda done, _: _set(task, done=done), actor=task.created_by
    )
    Path(path).unlink(missing_ok=True)
    Task.objects.filter(pk=task.pk).update(
        result=report.as_dict(), total=len(report.prospect_ids), done=0
    )
    queued = _resync(task, report.prospect_ids)
    message = report.file_error or _summary("Import finished.", queued)
    _finish(task, message=message, failed=bool(report.file_error))


def _resync(task: Task, ids: list[int]) -> int:
    """Resync ``ids`` with progress on ``task``; return how many are only queued (connector
    paused, or a worker holds them) — neither cleared nor failing yet."""
    queued = 0

    def advance(report: ResyncReport, size: int) -> None:
        nonlocal queued
        queued += len(report.queued)
        Task.objects.filter(pk=task.pk).update(
            done=F("done") + report.cleared,
            failed=F("failed") + size - report.cleared - len(report.queued),
        )

    resync_in_chunks(prospect_ids=ids, on_chunk=advance)
    return queued


def _summary(message: str, queued: int) -> str:
    if queued:
        return f"{message} {queued:,} queued: they sync when the connector runs."
    return message


def _start(task_id: int) -> Task:
    Task.objects.filter(pk=task_id).update(state=Task.State.RUNNING)
    return Task.objects.get(pk=task_id)


def _set(task: Task, *, done: int) -> None:
    Task.objects.filter(pk=task.pk).update(done=done)


def _finish(task: Task, *, message: str, failed: bool = False) -> None:
    Task.objects.filter(pk=task.pk).update(
        state=Task.State.FAILED if failed else Task.State.DONE,
        message=message,
        finished_at=timezone.now(),
    )

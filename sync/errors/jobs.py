"""RQ jobs of the Sync Errors page: bulk resync and CSV re-import, each with its Task.

Both run on the ``imports`` queue, whose worker is a process of its own: an import never
stalls syncing. Neither calls Salesforce — they queue prospects, and the sync workers push them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.http import QueryDict

from core.models import Task
from prospects.models import SyncHistory, SyncReason
from sync.errors.csv_io import import_file
from sync.errors.filters import SyncErrorFilter
from sync.errors.resync import request_resync
from sync.models import SyncError

QUEUE = "imports"


def matching_prospect_ids(querystring: str) -> list[int]:
    """Prospects with an open error matching the page's filter (the "resync all" scope)."""
    errors = SyncErrorFilter(QueryDict(querystring), queryset=SyncError.objects.all()).qs
    ids = errors.filter(resolved_at__isnull=True, prospect__isnull=False)
    return sorted(set(ids.values_list("prospect_id", flat=True).order_by()))


def resync_job(task_id: int, prospect_ids: list[int] | None = None, querystring: str = "") -> None:
    """Queue the sync of the given prospects (or those the filter matches); the page follows
    them through the queue with the ids kept on the task."""
    task = Task.objects.get(pk=task_id)
    if not task.start():
        return  # another worker took it
    with _failing(task, "The resync stopped on an unexpected error; try again."):
        ids = prospect_ids if prospect_ids is not None else matching_prospect_ids(querystring)
        SyncHistory.objects.record_action(
            ids, actor=task.created_by, operation="resync", reason=SyncReason.ERROR_RESYNC
        )
        request = request_resync(prospect_ids=ids)
        task.set_total(len(request.queued))
        task.finish(request.notes(), result={"prospect_ids": request.queued})


def import_job(task_id: int, path: str) -> None:
    """Apply an uploaded corrected export (each accepted row queues its prospect's sync), then
    delete the upload whatever happened."""
    task = Task.objects.get(pk=task_id)
    if not task.start():
        return  # another worker runs it, and deletes the upload
    failure = "The import stopped on an unexpected error; rows applied before it stay applied."
    try:
        with _failing(task, failure):
            report = import_file(Path(path), progress=task, actor=task.created_by)
            result = {**report.as_dict(), "prospect_ids": report.prospect_ids}
            if report.file_error:
                task.finish(report.file_error, failed=True, result=result)
            else:
                task.finish("Import finished.", result=result)
    finally:
        Path(path).unlink(missing_ok=True)


@contextmanager
def _failing(task: Task, message: str) -> Iterator[None]:
    """A job that raises finishes its task as failed — with ``message``, never the exception's
    text, which may name internals — and raises on, so RQ keeps the traceback."""
    try:
        yield
    except BaseException:
        task.finish(message, failed=True)
        raise

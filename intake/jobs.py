"""RQ jobs of the Imports page: they run on the ``imports`` queue, a worker of its own, so a
large import never stalls syncing."""

from __future__ import annotations

from django.utils import timezone

from core.models import Task
from intake.imports import fail_unexpectedly, run_import
from intake.models import Import


def run_import_job(task_id: int, import_id: int) -> None:
    """Take the import (unless it was cancelled or another worker took it) and run it."""
    task = Task.objects.get(pk=task_id)
    run = Import.objects.select_related("created_by").get(pk=import_id)
    if not task.start():
        return  # cancelled, or another worker runs it
    waiting = (Import.State.QUEUED, Import.State.SCHEDULED)
    if not run.move(source=waiting, to=Import.State.RUNNING, started_at=timezone.now()):
        task.finish("Cancelled before it started.", failed=True)
        return
    try:
        run_import(run, task=task)
    except BaseException:
        fail_unexpectedly(run, task)
        raise

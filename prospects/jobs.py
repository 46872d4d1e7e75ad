"""RQ jobs of the prospects app: the scoring recompute (with its Task) and the daily decay."""

from __future__ import annotations

from core.models import Task
from prospects.scoring import decay_and_sync, recompute_scores

QUEUE = "imports"  # a worker of its own: a recompute never stalls syncing
RECOMPUTE_KIND = "scoring_recompute"


def recompute_job(task_id: int) -> None:
    """Rescore and regrade every prospect; the Scoring page follows the task's steps."""
    task = Task.objects.get(pk=task_id)
    if not task.start():
        return  # another worker took it
    task.set_total(1)
    try:
        report = recompute_scores(
            progress=lambda done, total: task.advance(done=1) if done else None
        )
    except Exception:
        task.finish("The recompute stopped on an unexpected error; try again.", failed=True)
        raise
    task.finish(
        f"{report.rescored:,} scores and {report.regraded:,} grades changed; "
        f"{report.queued:,} prospects queued to sync.",
        result={"rescored": report.rescored, "regraded": report.regraded, "queued": report.queued},
    )


def decay_job() -> int:
    """The cron's daily score decay (nothing unless decay is on in Scoring settings)."""
    return decay_and_sync()

"""RQ jobs of the automation pages: a large bulk action as a task with a progress bar."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from automation.actions import InvalidActions, Source, apply_actions, parse_actions
from automation.bulk import matching_ids, summary
from core.models import Task


def bulk_actions_job(
    task_id: int,
    actions: list[dict],
    prospect_ids: list[int] | None = None,
    querystring: str = "",
) -> None:
    """Apply the actions to the selection (or the filter's prospects), a chunk at a time."""
    task = Task.objects.get(pk=task_id)
    if not task.start():
        return
    try:
        ids = prospect_ids if prospect_ids is not None else matching_ids(querystring)
        task.set_total(len(ids))
        actor = get_user_model().objects.filter(pk=task.created_by_id).first()
        result = apply_actions(
            parse_actions(actions),
            ids,
            actor=actor,
            source=Source.BULK,
            progress=lambda done: task.advance(done=done),
        )
        task.finish(summary(result), failed=bool(result.failed), result=result.as_dict())
    except InvalidActions as exc:
        task.finish(" ".join(exc.errors), failed=True)
    except BaseException:
        task.finish("The bulk action stopped on an unexpected error; try again.", failed=True)
        raise

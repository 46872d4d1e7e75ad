"""RQ jobs of automation, enqueued by name after commit: lists recomputed, rules run, the cron's
minute (``tick``), and a large bulk action as a task with a progress bar."""

from __future__ import annotations

import logging

import django_rq
from django.contrib.auth import get_user_model
from django.db import transaction

from automation.actions import InvalidActions, Source, apply_actions, parse_actions
from automation.bulk import matching_ids, summary
from automation.models import ProspectList, Rule
from core.models import Task

log = logging.getLogger(__name__)
QUEUE = "default"


def _enqueue(name: str, *args) -> None:
    def send() -> None:
        try:
            django_rq.get_queue(QUEUE, commit_mode="auto").enqueue(name, *args, job_timeout=1800)
        except Exception:  # noqa: BLE001 - Redis down: the cron's minute catches up
            log.warning("could not enqueue %s; the next cron minute will", name, exc_info=True)

    transaction.on_commit(send)


def enqueue_recompute(prospect_list: ProspectList) -> None:
    _enqueue("automation.jobs.recompute_list_job", prospect_list.pk)


def enqueue_run(rule: Rule, *, trigger: str) -> None:
    _enqueue("automation.jobs.run_rule_job", rule.pk, trigger)


def recompute_list_job(list_id: int) -> None:
    from automation.lists import recompute

    prospect_list = ProspectList.objects.filter(pk=list_id, kind=ProspectList.Kind.DYNAMIC).first()
    if prospect_list is not None:
        recompute(prospect_list)


def run_rule_job(rule_id: int, trigger: str = "manual") -> None:
    from automation.rules import run_rule

    rule = Rule.objects.filter(pk=rule_id, state=Rule.State.ACTIVE).first()
    if rule is not None:
        run_rule(rule, trigger=trigger)


def tick() -> None:
    """Every minute: dynamic lists first (rules may read their members), then repeat rules."""
    from automation.lists import recompute_all
    from automation.rules import run_repeating

    recompute_all()
    run_repeating()


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

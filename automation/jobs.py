"""RQ jobs for lists and rules, enqueued by name after commit; the cron's minute (``tick``)."""

from __future__ import annotations

import logging

import django_rq
from django.db import transaction

from automation.models import ProspectList, Rule

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

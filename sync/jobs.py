"""RQ jobs of the sync engine. Each takes ids, loads rows, calls the engine, stores the outcome."""

from __future__ import annotations

import logging

from django.utils import timezone

from sync.engine import budget, queue
from sync.engine.inbound import pull_changes
from sync.engine.outbound import (
    BULK_MIN,
    CONNECTION_CODES,
    PushReport,
    PushRun,
    Result,
    finish_push,
    give_up,
    start_push,
)
from sync.models import Connector, SyncQueueItem
from sync.salesforce import Client, SalesforceError
from sync.triggers import wake_workers

log = logging.getLogger(__name__)

BATCH = 1000  # five Collections writes of 200: one Composite call
JOB_BATCHES = 5
BULK_BATCH = 5000  # two batches in flight at most: worker memory stays flat


def push_pending(connector_id: int | None = None, *, max_batches: int | None = None) -> PushReport:
    """Push every claimable pending prospect, a batch at a time, until none are left.

    Batches overlap: while Salesforce processes one batch's Bulk API job, the next batch is
    claimed, routed and sent. Transient failures go back to the queue with backoff; rows
    changed while in flight stay. The report keeps counts only, so memory stays flat.
    """
    total = PushReport()
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return total
    client = Client.for_connector(connector)
    budget.refresh_if_stale(connector, client)
    batches = 0
    in_flight: tuple[list[queue.Claim], PushRun] | None = None
    while max_batches is None or batches < max_batches:
        if not budget.may_run(connector, client) or budget.over_budget(connector):
            log.info("API budget spent; pushing resumes at %s", connector.paused_until)
            break
        # A long queue goes in large batches so creates can use Bulk API 2.0.
        backlog = SyncQueueItem.objects.count()
        claims = queue.claim_batch(limit=BULK_BATCH if backlog > BULK_MIN else BATCH)
        if not claims:
            break
        batches += 1
        run = start_push(
            connector=connector, prospect_ids=[c.prospect_id for c in claims], client=client
        )
        if in_flight:
            _settle(*in_flight, total)
        in_flight = (claims, run)
        budget.record_usage(connector, client)
        if budget.over_budget(connector):
            break
    if in_flight:
        _settle(*in_flight, total)
    total.api_calls = client.api_calls
    return total


def _settle(claims: list[queue.Claim], run: PushRun, total: PushReport) -> None:
    """Record a finished batch on the queue: done, retry later, or — transient failures that
    outlasted every retry — a Sync Error (a broken connection never counts: it waits)."""
    report = finish_push(run)
    retrying = {o.prospect_id: o for o in report.outcomes if o.result == Result.RETRY}
    given_up = [
        c
        for c in claims
        if c.prospect_id in retrying
        and queue.exhausted(c)
        and retrying[c.prospect_id].code not in CONNECTION_CODES
    ]
    for claim in given_up:
        give_up(run.connector, retrying[claim.prospect_id], attempts=claim.attempts + 1)
    given_up_ids = {c.prospect_id for c in given_up}
    queue.settle_retry(
        [c for c in claims if c.prospect_id in retrying and c.prospect_id not in given_up_ids]
    )
    queue.settle_done(
        [c for c in claims if c.prospect_id not in retrying or c.prospect_id in given_up_ids]
    )
    total.absorb(report)


def push_some(connector_id: int | None = None) -> None:
    """The wake-up job: a few batches, then hand over to a fresh job if more is pending.

    Short jobs let a worker stop promptly (a warm shutdown waits for the current job) and let
    several workers share a long queue.
    """
    push_pending(connector_id, max_batches=JOB_BATCHES)
    if queue.claimable().exists():
        wake_workers()


def pull(connector_id: int | None = None) -> None:
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return
    client = Client.for_connector(connector)
    if not budget.may_run(connector, client):
        return
    report = pull_changes(connector=connector, client=client)
    budget.record_usage(connector, client)
    log.info("pull: %s", report)


def tick() -> None:
    """The cron's sync tick: at each connector's interval, push what is pending and pull changes.

    This is also what recovers from a lost wake-up, a flushed Redis or a killed worker: the
    pending rows are in the database and expired claims are taken again.
    """
    now = timezone.now()
    connector = Connector.objects.syncing()
    if connector is None:
        return
    last = connector.last_pull_at
    if last and (now - last).total_seconds() < connector.sync_interval - 1:
        return
    Connector.objects.filter(pk=connector.pk).update(last_pull_at=now)
    try:
        push_pending(connector.pk)
        pull(connector.pk)
    except SalesforceError as exc:
        log.warning("sync tick for %s failed: %s", connector, exc.code)

"""RQ jobs of the sync engine. Each takes ids, loads rows, calls the engine, stores the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable

import django_rq
from django.utils import timezone
from rq import Worker
from rq.job import JobStatus

from prospects.models import SyncQueueItem
from prospects.sync_requests import SYNC_QUEUE, wake_workers
from sync.engine import budget, queue
from sync.engine.accounts import pull_accounts
from sync.engine.batching import collecting_for_batches
from sync.engine.campaigns import push_memberships
from sync.engine.custom_objects import pull_custom_objects
from sync.engine.inbound import pull_changes
from sync.engine.opportunities import pull_opportunities
from sync.engine.outbound import BULK_MIN, PushReport, PushRun, finish_push, start_push
from sync.engine.users import sync_users
from sync.models import Connector
from sync.salesforce import Client, SalesforceError

log = logging.getLogger(__name__)

BATCH = 1000  # five Collections writes of 200: one Composite call
JOB_BATCHES = 5
# The ROI report's figures (reports sits above sync: enqueued by name, never imported).
ROI_REFRESH_JOB = "reports.jobs.refresh_roi_credits_job"
BULK_BATCH = 5000  # two batches in flight at most: worker memory stays flat
SHARE_JOB_TIMEOUT = 3600  # a helper pushes until the backlog is gone
LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def push_pending(connector_id: int | None = None, *, max_batches: int | None = None) -> PushReport:
    """Push every claimable pending prospect, a batch at a time, until none are left.

    Batches overlap: while Salesforce processes one batch's Bulk API job, the next batch is
    claimed, routed and sent. Every claim of the run is renewed before each Salesforce call,
    so no other worker takes live work. Batches are settled through the queue protocol
    (``queue.settle``). The report keeps counts only, so memory stays flat.
    """
    with collecting_for_batches():
        return _push_pending(connector_id, max_batches=max_batches)


def _push_pending(connector_id: int | None, *, max_batches: int | None) -> PushReport:
    total = PushReport()
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return total
    client = Client.for_connector(connector)
    lease = queue.Lease()
    client.before_call = lease.keep_alive
    budget.refresh_if_stale(connector, client)
    batches = 0
    in_flight: tuple[list[queue.Claim], PushRun] | None = None
    while max_batches is None or batches < max_batches:
        if not budget.may_run(connector, client) or budget.over_budget(connector):
            log.info("API budget spent; pushing resumes at %s", connector.paused_until)
            break
        claims = lease.claim(limit=batch_size())
        if not claims:
            break
        batches += 1
        run = start_push(
            connector=connector, prospect_ids=[c.prospect_id for c in claims], client=client
        )
        if in_flight:
            _settle(*in_flight, total, lease)
        in_flight = (claims, run)
        budget.record_usage(connector, client)
        if budget.over_budget(connector):
            break
    if in_flight:
        _settle(*in_flight, total, lease)
    # Memberships of prospects this push linked can go now (sync/engine/campaigns.py).
    push_memberships(connector=connector, client=client)
    total.api_calls = client.api_calls
    return total


def batch_size() -> int:
    """How many rows a worker claims next.

    A long queue goes in large batches, so creates use Bulk API 2.0 — but no larger than this
    worker's share of what is left (two batches each: one in flight, one being prepared), so
    several workers split a backlog instead of the first one taking it all. The queue is
    counted only as far as the answer needs: a full count of a million rows per batch adds up.
    """
    workers = worker_count()
    if workers <= 1:
        backlog = SyncQueueItem.objects.all()[: BULK_MIN + 1].count()
        return BULK_BATCH if backlog > BULK_MIN else BATCH
    backlog = queue.claimable()[: 2 * workers * BULK_BATCH].count()
    if backlog <= BULK_MIN:
        return BATCH
    share = -(-backlog // (2 * workers))
    return max(BULK_MIN, min(BULK_BATCH, share))


def worker_count() -> int:
    """RQ workers listening on the sync queue (0 when Redis cannot say)."""
    try:
        return Worker.count(queue=django_rq.get_queue(SYNC_QUEUE))
    except Exception:  # noqa: BLE001 - Redis down: size batches as for one worker
        return 0


def share_the_backlog(connector: Connector) -> int:
    """Hand a backlog to every sync worker, not just the one running the tick.

    When more than a Bulk batch is claimable and other workers listen on the sync queue, each
    of them gets a ``push_pending`` job (one per worker, waiting or running, under a fixed job
    id); they claim disjoint batches (``queue.Lease``), sized to each worker's share
    (``batch_size``). Returns how many jobs it enqueued.
    """
    helpers = worker_count() - 1
    if helpers <= 0 or queue.claimable()[: BULK_BATCH + 1].count() <= BULK_BATCH:
        return 0
    sync_queue = django_rq.get_queue(SYNC_QUEUE)
    enqueued = 0
    for index in range(helpers):
        job_id = f"sync-share-{connector.pk}-{index}"
        job = sync_queue.fetch_job(job_id)
        if job is not None and job.get_status(refresh=False) in LIVE:
            continue
        sync_queue.enqueue(
            "sync.jobs.push_pending",
            connector.pk,
            job_id=job_id,
            job_timeout=SHARE_JOB_TIMEOUT,
            result_ttl=0,
        )
        enqueued += 1
    return enqueued


def _settle(claims: list[queue.Claim], run: PushRun, total: PushReport, lease: queue.Lease) -> None:
    """Wait for a batch's bulk jobs, then settle it on the queue."""
    report = finish_push(run)
    queue.settle(claims, report, connector=run.connector)
    lease.forget(claims)
    total.absorb(report)


def push_some(connector_id: int | None = None) -> None:
    """The wake-up job (``request_sync`` enqueues it): a few batches, then hand over to a fresh
    job if more is pending.

    It pushes while the connector syncs, whatever the backlog. Above the connector's batch
    threshold (400 by default, as in the guide) the queue is a backlog: it goes out in batches
    (Bulk API 2.0 above ``BULK_MIN`` rows), starting now and handed to every listening sync
    worker (``share_the_backlog``), instead of waiting for the cron's tick, up to the
    connector's interval later. Short jobs let a worker stop promptly (a warm shutdown waits for
    the current job) and let several workers share a long queue.
    """
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return  # paused: changes queue and go out after resume
    threshold = connector.batch_threshold
    if SyncQueueItem.objects.all()[: threshold + 1].count() > threshold:  # counts no further
        share_the_backlog(connector)
    push_pending(connector.pk, max_batches=JOB_BATCHES)
    if queue.claimable().exists():
        wake_workers()


def push_now(prospect_ids: list[int], connector_id: int | None = None) -> None:
    """Push these prospects at once (a resync), whatever the backlog: those whose rows no
    worker holds are claimed, pushed and settled here; the others go with their worker.
    Enqueue it by name after ``request_sync_many``, so the request outlives this job."""
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return
    report = queue.push_now(connector=connector, prospect_ids=prospect_ids)
    log.info(
        "push of %d requested prospects: %d synced, %d refused, %d to retry",
        len(prospect_ids),
        report.synced,
        report.failed,
        len(report.retry_ids),
    )


def pull(connector_id: int | None = None) -> None:
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return
    client = Client.for_connector(connector)
    if not budget.may_run(connector, client):
        return
    # Users first: owners met by the pull then map to portal users by Salesforce user id.
    users = _beside_the_pull("user sync", sync_users, connector, client)
    report = pull_changes(connector=connector, client=client)
    # Accounts last: the pull may have linked prospects to new accounts.
    accounts = _beside_the_pull("accounts pull", pull_accounts, connector, client)
    # Opportunities after accounts: they come through the contacts the pull just linked.
    opportunities = _beside_the_pull("opportunities pull", pull_opportunities, connector, client)
    if opportunities is not None and opportunities.changed:
        refresh_roi()
    custom = _beside_the_pull("custom objects pull", pull_custom_objects, connector, client)
    budget.record_usage(connector, client)
    log.info(
        "pull: %s; users: %s; accounts: %s; opportunities: %s; custom objects: %s",
        report,
        users,
        accounts,
        opportunities,
        custom,
    )


def _beside_the_pull(name: str, step: Callable, connector: Connector, client: Client) -> object:
    """Users and accounts never hold up the prospects' pull: a refusal is logged and the next
    tick tries again (owners met meanwhile are looked up one by one, as before)."""
    try:
        return step(connector=connector, client=client)
    except SalesforceError as exc:
        log.warning("%s failed: %s %s", name, exc.code, exc)
        return None


def refresh_roi() -> None:
    """Ask for the ROI report's figures to be rebuilt (after commit: django-rq's commit mode);
    Redis down, the cron's refresh catches up."""
    try:
        django_rq.get_queue("default").enqueue(ROI_REFRESH_JOB, job_timeout=600)
    except Exception:  # noqa: BLE001 - the cron's refresh catches up
        log.warning("could not enqueue the ROI refresh; the cron will run it", exc_info=True)


def sync_users_now(connector_id: int | None = None) -> None:
    """The users page's "Sync users now": mirror users and reconcile portal users at once."""
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return
    client = Client.for_connector(connector)
    report = sync_users(connector=connector, client=client)
    budget.record_usage(connector, client)
    log.info("user sync: %s", report)


def tick() -> None:
    """The cron's sync tick: at each connector's interval, push what is pending and pull changes.

    This is also what recovers from a lost wake-up, a flushed Redis or a killed worker: the
    pending rows are in the database and expired claims are taken again. A backlog goes out on
    every sync worker at once (``share_the_backlog``), not only on the one running the tick.
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
        share_the_backlog(connector)  # the other workers push beside this one
        push_pending(connector.pk)
        pull(connector.pk)
    except SalesforceError as exc:
        log.warning("sync tick for %s failed: %s", connector, exc.code)

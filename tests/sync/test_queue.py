"""The queue protocol under a slow org: claims live as long as the push, bulk waits end."""

import threading
import time
import uuid

import django_rq
import pytest
from django.db import connection
from rq import Worker

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync_many
from sync import jobs
from sync.engine import queue
from sync.models import SyncError


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


def queue_prospects(owner, count: int) -> tuple[str, list[int]]:
    domain = f"queue-{uuid.uuid4().hex[:8]}.example"
    Prospect.objects.bulk_create(
        [ProspectFactory.build(email=f"p{i}@{domain}", assigned_user=owner) for i in range(count)]
    )
    ids = list(Prospect.objects.filter(email__endswith=domain).values_list("pk", flat=True))
    request_sync_many(ids, SyncReason.INITIAL_SYNC)
    return domain, ids


def leads_of(org, domain: str) -> list[dict]:
    return org.admin().query_all(
        f"SELECT Id, pi__Pardot_Prospect_Id__c FROM Lead WHERE Email LIKE '%@{domain}'"
    )["records"]


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_never_takes_the_prospects_of_a_slow_push(connector, org, owner, settings):
    settings.SYNC_CLAIM_TIMEOUT = 3  # far shorter than the push below
    domain, ids = queue_prospects(owner, 20)
    org.control("set_faults", latency_ms=1000)  # every call a second: the push takes several
    finished = threading.Event()

    def first_worker() -> None:
        try:
            jobs.push_pending(connector.pk)
        finally:
            connection.close()
            finished.set()

    threading.Thread(target=first_worker, daemon=True).start()
    while not finished.is_set() and not SyncQueueItem.objects.exclude(claimed_at=None).exists():
        time.sleep(0.05)
    taken = []
    while not finished.wait(0.2):  # the second worker tries as long as the first one pushes
        taken += queue.Lease("second-worker").claim(limit=100)
    org.control("clear_faults")

    assert taken == []
    assert not SyncQueueItem.objects.exists()
    synced = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED)
    assert synced.count() == len(ids)
    assert len(leads_of(org, domain)) == len(ids)


@pytest.mark.django_db
def test_a_bulk_job_past_its_deadline_is_left_and_its_prospects_retried(
    connector, org, owner, settings
):
    settings.SYNC_BULK_DEADLINE = 0  # give up on the job at its first unfinished poll
    domain, ids = queue_prospects(owner, 2001)  # a Bulk API job

    jobs.push_pending(connector.pk)

    items = SyncQueueItem.objects.filter(prospect_id__in=ids)
    assert items.count() == len(ids)
    assert all(i.attempts == 1 and i.not_before and not i.claimed_by for i in items)
    assert not SyncError.objects.exists()  # a transient failure, retried with backoff

    settings.SYNC_BULK_DEADLINE = 900
    for _ in range(3):
        SyncQueueItem.objects.update(not_before=None)
        jobs.push_pending(connector.pk)
    assert not SyncQueueItem.objects.exists()
    leads = leads_of(org, domain)
    assert len(leads) == len(ids)  # the aborted job's rows were upserted, not duplicated
    keys = {lead["pi__Pardot_Prospect_Id__c"]: lead["Id"] for lead in leads}
    for prospect in Prospect.objects.filter(pk__in=ids):
        assert keys[prospect.sync_key.hex] == prospect.crm_lead_id


@pytest.mark.django_db
def test_push_now_pushes_what_no_worker_holds_and_settles_it(connector, org, owner):
    domain, ids = queue_prospects(owner, 3)
    held = queue.Lease("a-worker").claim(prospect_ids=ids[:1])

    report = queue.push_now(connector=connector, prospect_ids=ids)

    assert sorted(report.by_prospect()) == sorted(ids[1:])  # the held one is left to its worker
    assert report.synced == 2, report.outcomes
    [left] = SyncQueueItem.objects.all()
    assert left.pk == held[0].item_id and left.claimed_by.startswith("a-worker/")
    assert len(leads_of(org, domain)) == 2


@pytest.mark.django_db
def test_the_push_now_job_pushes_requested_prospects_whatever_the_backlog(connector, org, owner):
    connector.batch_threshold = 1  # a backlog: this job still pushes only what it was asked
    connector.save()
    domain, ids = queue_prospects(owner, 3)

    jobs.push_now(ids[:2])

    assert list(SyncQueueItem.objects.values_list("prospect_id", flat=True)) == ids[2:]
    assert len(leads_of(org, domain)) == 2


@pytest.fixture
def idle_sync_workers():
    """Register ``count`` idle RQ workers on the sync queue (as running ``rqworker sync``s).

    Starts from none: a worker another test SIGKILLed stays registered until its TTL runs out
    (minutes), and would count as one more listener here."""
    for stale in Worker.all(queue=django_rq.get_queue("sync")):
        stale.register_death()
    registered = []

    def register(count: int) -> None:
        sync_queue = django_rq.get_queue("sync")
        for i in range(count):
            worker = Worker(
                [sync_queue], connection=sync_queue.connection, name=f"idle-{i}-{uuid.uuid4().hex}"
            )
            worker.register_birth()
            registered.append(worker)

    yield register
    for worker in registered:
        worker.register_death()


@pytest.mark.django_db(transaction=True)
def test_the_tick_hands_a_backlog_to_every_sync_worker(
    connector, org, owner, run_jobs, idle_sync_workers, monkeypatch
):
    monkeypatch.setattr(jobs, "BULK_BATCH", 10)  # a backlog is more than one such batch
    domain, ids = queue_prospects(owner, 25)
    django_rq.get_queue("sync").empty()  # the request's wake-up: only the shared jobs run
    idle_sync_workers(3)
    assert jobs.share_the_backlog(connector) == 2  # the tick's worker pushes too
    assert jobs.share_the_backlog(connector) == 0  # theirs still wait: not twice
    waiting = django_rq.get_queue("sync").get_jobs()
    assert [job.func_name for job in waiting] == ["sync.jobs.push_pending"] * 2
    run_jobs("sync")
    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    leads = leads_of(org, domain)
    assert len(leads) == 25 == len({lead["pi__Pardot_Prospect_Id__c"] for lead in leads})


@pytest.mark.django_db(transaction=True)
def test_a_backlog_above_the_threshold_starts_at_once_on_every_sync_worker(
    connector, org, owner, run_jobs, idle_sync_workers, monkeypatch
):
    """Above the batch threshold the wake-up job does not leave the backlog to the cron's tick
    (up to the connector's interval later): it pushes it in batches now and hands it to the
    other sync workers too."""
    monkeypatch.setattr(jobs, "BULK_BATCH", 10)
    connector.batch_threshold = 5
    connector.save()
    domain, ids = queue_prospects(owner, 25)
    django_rq.get_queue("sync").empty()  # the request's own wake-up, run by hand below
    idle_sync_workers(2)

    jobs.push_some(connector.pk)

    shared = django_rq.get_queue("sync").get_jobs()
    assert [job.func_name for job in shared] == ["sync.jobs.push_pending"]  # the other worker's
    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()  # pushed by this job
    run_jobs("sync")  # the other worker finds nothing left: no lead twice
    leads = leads_of(org, domain)
    assert len(leads) == 25 == len({lead["pi__Pardot_Prospect_Id__c"] for lead in leads})


@pytest.mark.django_db
def test_a_small_backlog_or_a_lone_worker_is_the_ticks_own(
    connector, owner, idle_sync_workers, monkeypatch
):
    monkeypatch.setattr(jobs, "BULK_BATCH", 10)
    queue_prospects(owner, 25)
    assert jobs.share_the_backlog(connector) == 0  # no other worker listens
    idle_sync_workers(3)
    SyncQueueItem.objects.filter(
        pk__in=SyncQueueItem.objects.values("pk")[:20]
    ).delete()  # 5 left: one batch
    assert jobs.share_the_backlog(connector) == 0


@pytest.mark.django_db
def test_a_renewal_moves_only_the_claims_the_lease_still_holds(owner):
    """Renewed by primary key: the lease's live claims move, a row it settled is forgotten and
    a row another worker took over (after the claim expired) is left to that worker."""
    _, ids = queue_prospects(owner, 3)
    lease = queue.Lease("renewing-worker")
    claims = lease.claim(prospect_ids=ids)
    queue.settle_done(claims[:1])
    SyncQueueItem.objects.filter(pk=claims[1].item_id).update(claimed_by="another-worker/1")
    SyncQueueItem.objects.update(claimed_at=None)
    assert lease.renew() == 1
    held = SyncQueueItem.objects.filter(claimed_at__isnull=False)
    assert list(held.values_list("pk", flat=True)) == [claims[2].item_id]
    assert lease.renew() == 1


@pytest.mark.django_db
def test_a_push_forgets_the_claims_it_settled(owner):
    """A long push settles batch after batch: its lease holds only the claims in hand, not
    every row it ever claimed (a million ids, looked up again at each renewal)."""
    _, ids = queue_prospects(owner, 4)
    lease = queue.Lease("forgetting-worker")
    first = lease.claim(prospect_ids=ids[:2])
    second = lease.claim(prospect_ids=ids[2:])
    queue.settle_done(first)
    lease.forget(first)
    assert lease._held == {claim.item_id for claim in second}
    assert lease.renew() == 2

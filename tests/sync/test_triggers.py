"""request_sync marks prospects pending in the database; the queue never loses a change."""

import django_rq
import pytest
from django.db import transaction

from prospects.factories import ProspectFactory
from prospects.models import SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync, request_sync_many
from sync import jobs
from sync.engine import queue
from sync.models import Connector


@pytest.fixture
def active_connector(db):
    return Connector.objects.create(
        login_url="https://127.0.0.1:1", client_id="x", state=Connector.State.ACTIVE
    )


@pytest.mark.django_db
def test_request_marks_pending_and_queues_once():
    prospect = ProspectFactory()
    request_sync(prospect, SyncReason.FIELD_UPDATE)
    request_sync(prospect, SyncReason.MANUAL)
    item = SyncQueueItem.objects.get()
    assert (item.prospect_id, item.generation, item.reason) == (prospect.pk, 2, "manual")
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.PENDING


@pytest.mark.django_db
def test_do_not_sync_prospects_never_queue():
    prospect = ProspectFactory(do_not_sync=True)
    request_sync(prospect, SyncReason.FIELD_UPDATE)
    assert not SyncQueueItem.objects.exists()
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.DO_NOT_SYNC


@pytest.mark.django_db
def test_unknown_reasons_are_refused():
    with pytest.raises(ValueError):
        request_sync(ProspectFactory(), "because")


@pytest.mark.django_db
def test_a_change_during_a_push_is_not_lost():
    prospect = ProspectFactory()
    request_sync(prospect, SyncReason.FIELD_UPDATE)
    [claim] = queue.Lease().claim(limit=10)
    request_sync(prospect, SyncReason.FIELD_UPDATE)  # edited while the push is in flight
    prospect.__class__.objects.filter(pk=prospect.pk).update(sync_status="synced")  # the push
    queue.settle_done([claim])
    item = SyncQueueItem.objects.get()
    assert item.claimed_at is None and item.generation == 2
    prospect.refresh_from_db()
    assert prospect.sync_status == "pending"  # the newer change still has to go


@pytest.mark.django_db
def test_a_push_whose_claim_expired_settles_nothing_another_worker_took_over(settings):
    """A stalled push (its claims expired, another worker took the rows) must not delete,
    back off or release rows the other worker is pushing: they are its to settle."""
    done, retried, released = ProspectFactory.create_batch(3)
    request_sync_many([done.pk, retried.pk, released.pk], SyncReason.FIELD_UPDATE)
    stalled = queue.Lease("stalled-worker").claim(limit=10)
    settings.SYNC_CLAIM_TIMEOUT = -1  # its claims expire
    other = queue.Lease("other-worker")
    taken = other.claim(limit=10)
    settings.SYNC_CLAIM_TIMEOUT = 300
    by_prospect = {claim.prospect_id: claim for claim in stalled}

    queue.settle_done([by_prospect[done.pk]])
    queue.settle_retry([by_prospect[retried.pk]])
    queue.release([by_prospect[released.pk]])

    rows = SyncQueueItem.objects.all()
    assert [row.claimed_by for row in rows] == [other.token] * 3  # all still the other's
    assert {(row.attempts, row.not_before) for row in rows} == {(0, None)}
    queue.settle_done(taken)
    assert not SyncQueueItem.objects.exists()


@pytest.mark.django_db
def test_claimed_rows_are_not_claimed_twice_until_the_claim_expires(settings):
    ProspectFactory.create_batch(3)
    request_sync_many(list(SyncQueueItem.objects.none()), SyncReason.MANUAL)
    from prospects.models import Prospect

    request_sync_many(list(Prospect.objects.values_list("pk", flat=True)), SyncReason.CSV_IMPORT)
    first = queue.Lease().claim(limit=2)
    second = queue.Lease().claim(limit=10)
    assert len(first) == 2 and len(second) == 1
    assert queue.Lease().claim(limit=10) == []
    settings.SYNC_CLAIM_TIMEOUT = -1  # a killed worker's claims expire
    assert len(queue.Lease().claim(limit=10)) == 3


@pytest.mark.django_db
def test_transient_failure_backs_off():
    prospect = ProspectFactory()
    request_sync(prospect, SyncReason.FIELD_UPDATE)
    claims = queue.Lease().claim(limit=10)
    queue.settle_retry(claims)
    item = SyncQueueItem.objects.get()
    assert item.attempts == 1 and item.not_before is not None
    assert queue.Lease().claim(limit=10) == []


@pytest.mark.django_db(transaction=True)
def test_a_request_wakes_the_workers_after_commit_with_at_most_two_wake_ups_waiting(
    active_connector,
):
    q = django_rq.get_queue("sync")
    q.empty()
    with transaction.atomic():
        request_sync(ProspectFactory(), SyncReason.FIELD_UPDATE)
        assert q.count == 0  # a worker woken now would not see the uncommitted row
    assert q.count == 1
    for _ in range(3):
        request_sync(ProspectFactory(), SyncReason.FIELD_UPDATE)
    assert q.count == 2


@pytest.mark.django_db(transaction=True)
def test_the_crons_jobs_waiting_on_the_sync_queue_never_hold_a_wake_up_back(active_connector):
    """A slow first tick keeps the cron's verification and heartbeat waiting on the sync queue;
    a backlog queued meanwhile must still wake a worker (only wake-ups count toward the two)."""
    q = django_rq.get_queue("sync")
    q.empty()
    q.enqueue("sync.verification.verify_all")
    q.enqueue("core.jobs.record_heartbeat", name="worker:sync")
    request_sync(ProspectFactory(), SyncReason.FIELD_UPDATE)
    assert [job.func_name for job in q.get_jobs()][-1] == "sync.jobs.push_some"


@pytest.mark.django_db(transaction=True)
def test_the_wake_up_job_leaves_the_queue_alone_while_paused(active_connector):
    """Asking for a sync needs nothing from the connector: the wake-up job decides. Paused, the
    changes wait for resume. (Were it to push, it would fail to reach this connector's org and
    count an attempt.)"""
    active_connector.state = Connector.State.PAUSED
    active_connector.save()
    request_sync_many([ProspectFactory().pk, ProspectFactory().pk], SyncReason.FIELD_UPDATE)

    jobs.push_some()

    untouched = SyncQueueItem.objects.filter(attempts=0, claimed_at__isnull=True)
    assert untouched.count() == 2


@pytest.mark.django_db
def test_request_many_queues_new_bumps_queued_and_skips_do_not_sync():
    queued, fresh = ProspectFactory(), ProspectFactory()
    never = ProspectFactory(do_not_sync=True)
    request_sync(queued, SyncReason.FIELD_UPDATE)
    SyncQueueItem.objects.filter(prospect=queued).update(not_before="2030-01-01T00:00:00Z")
    count = request_sync_many([queued.pk, fresh.pk, never.pk], SyncReason.CSV_IMPORT)
    assert count == 2
    items = {i.prospect_id: i for i in SyncQueueItem.objects.all()}
    assert set(items) == {queued.pk, fresh.pk}
    assert (items[queued.pk].generation, items[queued.pk].not_before) == (2, None)
    assert (items[fresh.pk].generation, items[fresh.pk].attempts) == (1, 0)
    assert {i.reason for i in items.values()} == {"csv_import"}
    for prospect, status in ((queued, "pending"), (fresh, "pending"), (never, "not_synced")):
        prospect.refresh_from_db()
        assert prospect.sync_status == status

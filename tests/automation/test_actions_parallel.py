"""A run of several chunks on two database connections (automation/actions.py, PostgreSQL):
the same outcome as one at a time — every prospect changed, noted and queued exactly once —
and a failing chunk stops the run. These commit for real (``transaction=True``): inside a test's
transaction the chunks are applied one at a time, as inside any outer transaction."""

import threading

import pytest
from django.db import connection, transaction

import automation.actions as actions_module
from automation.actions import Source, apply_actions, parse_actions
from prospects.factories import ProspectFactory
from prospects.models import CrmQueue, Prospect, SyncHistory, SyncQueueItem, SyncStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="chunks run in parallel on PostgreSQL only"
    ),
]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3, and the threads each chunk was applied on."""
    monkeypatch.setattr(actions_module, "CHUNK", 3)
    threads: list[str] = []
    apply = actions_module._apply_in_transaction

    def recorded(actions, ctx, chunk):
        threads.append(threading.current_thread().name)
        return apply(actions, ctx, chunk)

    monkeypatch.setattr(actions_module, "_apply_in_transaction", recorded)
    return threads


def test_chunks_on_two_connections_change_note_and_queue_each_prospect_once(small_chunks):
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")
    prospects = [ProspectFactory() for _ in range(11)]
    ProspectFactory(do_not_sync=True)
    prospects[0].assigned_queue = queue
    prospects[0].save()
    ids = [p.pk for p in Prospect.objects.order_by("pk")]
    done = []
    actions = parse_actions([{"type": "assign_queue", "queue": queue.pk}])

    result = apply_actions(actions, ids, source=Source.RULE, progress=done.append)

    assert len(small_chunks) == 4 and all(n.startswith("apply-actions") for n in small_chunks)
    assert (result.matched, result.changed, result.failed, result.queued) == (12, 11, 0, 10)
    assert done == [3, 3, 3, 3]
    assert set(Prospect.objects.values_list("assigned_queue", flat=True)) == {queue.pk}
    noted = list(SyncHistory.objects.values_list("prospect_id", flat=True))
    assert sorted(noted) == ids[1:]
    queued = SyncQueueItem.objects.values_list("prospect_id", "generation")
    assert sorted(queued) == [(pk, 1) for pk in ids[1:-1]]
    pending = Prospect.objects.filter(sync_status=SyncStatus.PENDING)
    assert sorted(pending.values_list("pk", flat=True)) == ids[1:-1]


def test_a_failing_chunk_stops_the_run_and_propagates(small_chunks, monkeypatch):
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")
    ids = [ProspectFactory().pk for _ in range(12)]
    failing = ids[3:6]
    write = actions_module.write_columns

    def fails_on_the_second_chunk(writes, chunk, ctx):
        if chunk == failing:
            raise RuntimeError("the database went away")
        return write(writes, chunk, ctx)

    monkeypatch.setattr(actions_module, "write_columns", fails_on_the_second_chunk)
    actions = parse_actions([{"type": "assign_queue", "queue": queue.pk}])

    with pytest.raises(RuntimeError, match="went away"):
        apply_actions(actions, ids, source=Source.RULE)

    assigned = set(Prospect.objects.filter(assigned_queue=queue).values_list("pk", flat=True))
    assert assigned.isdisjoint(failing)  # the failed chunk rolled back whole
    assert set(ids[:3]) <= assigned  # the chunk before it committed
    queued = set(SyncQueueItem.objects.values_list("prospect_id", flat=True))
    assert queued == assigned  # every committed change queued its sync, nothing else


def test_inside_an_outer_transaction_chunks_run_one_at_a_time(small_chunks):
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")
    ids = [ProspectFactory().pk for _ in range(7)]
    actions = parse_actions([{"type": "assign_queue", "queue": queue.pk}])

    with transaction.atomic():
        result = apply_actions(actions, ids, source=Source.BULK)

    assert result.changed == 7
    assert small_chunks == [threading.main_thread().name] * 3

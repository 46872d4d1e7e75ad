"""``request_sync``: the one way anything asks for a prospect to be synced.

The pending row in the database is the source of truth; Redis only carries a wake-up so a worker
starts at once. While the pending queue is at or under the connector's batch threshold (400 by
default, as in the guide) changes go out as they come; above it, the wake-up starts the backlog
in batches on every sync worker at once (``sync.jobs.push_some``). The cron's tick pushes
whatever a lost wake-up left.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import django_rq
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from rq import Queue

from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus

log = logging.getLogger(__name__)

SYNC_QUEUE = "sync"
WAKE_UP_JOB = "sync.jobs.push_some"  # by name: the engine sits above the prospects
MAX_WAITING_WAKEUPS = 2
WAKE_UP_PREFIX = "wake-up-"
# How request_sync_many marks a prospect, for an UPDATE of prospects that marks its own rows.
PENDING_UNLESS_DO_NOT_SYNC = (
    f"sync_status = CASE WHEN do_not_sync THEN sync_status ELSE '{SyncStatus.PENDING.value}' END"
)


def request_sync(prospect: Prospect, reason: SyncReason | str) -> None:
    """Mark ``prospect`` pending and wake a worker (after the current transaction commits).

    1. "Do not sync" prospects never go: they are marked so, and nothing is queued.
    2. The queue row is created, or its generation bumped so an in-flight push of an older
       version does not clear it.
    3. After commit, a worker is woken unless the queue is above the batch threshold.
    """
    reason = SyncReason(reason)
    if prospect.do_not_sync:
        Prospect.objects.filter(pk=prospect.pk).update(sync_status=SyncStatus.DO_NOT_SYNC)
        SyncQueueItem.objects.filter(prospect_id=prospect.pk).delete()
        return
    _mark_pending(prospect.pk, reason)
    transaction.on_commit(wake_workers)


def request_sync_many(prospect_ids: list[int], reason: SyncReason | str) -> int:
    """``request_sync`` for many prospects at once (imports, bulk resync, pulls); returns how
    many were queued ("Do not sync" prospects are skipped)."""
    reason = SyncReason(reason)
    if connection.vendor == "postgresql":
        count = _queue_many_postgresql(list(prospect_ids), reason)
    elif connection.vendor == "sqlite":
        count = _queue_many_sqlite(list(prospect_ids), reason)
    else:
        count = _queue_many(list(prospect_ids), reason)
    transaction.on_commit(wake_workers)
    return count


def request_sync_select(ids_sql: str, params: Sequence[Any], reason: SyncReason | str) -> int:
    """``request_sync_many`` for the prospects a query selects (``ids_sql`` selects their
    ``id``), the ids never leaving the database; returns how many were queued.

    1. One upsert creates their queue rows or bumps them ("Do not sync" prospects skipped).
    2. Those not yet pending are marked so. A caller that marked them in its own update
       (``PENDING_UNLESS_DO_NOT_SYNC``) spares each row a second version: nothing is rewritten.
    Call it inside the caller's transaction (PostgreSQL and SQLite).
    """
    queue = SyncQueueItem._meta.db_table
    prospects = Prospect._meta.db_table
    wanted = f"id IN ({ids_sql}) AND NOT do_not_sync"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {queue}
                (prospect_id, reason, requested_at, generation, attempts, claimed_by)
            SELECT id, %s, %s, 1, 0, '' FROM {prospects} WHERE {wanted}
            ON CONFLICT (prospect_id) DO UPDATE SET
                generation = {queue}.generation + 1,
                reason = excluded.reason,
                requested_at = excluded.requested_at,
                not_before = NULL
            """,
            [str(SyncReason(reason)), now, *params],
        )
        queued = cursor.rowcount
        cursor.execute(
            f"UPDATE {prospects} SET sync_status = %s WHERE {wanted} AND sync_status <> %s",
            [SyncStatus.PENDING.value, *params, SyncStatus.PENDING.value],
        )
    transaction.on_commit(wake_workers)
    return queued


def _queue_many(prospect_ids: list[int], reason: SyncReason) -> int:
    ids = list(
        Prospect.objects.filter(pk__in=prospect_ids, do_not_sync=False).values_list("pk", flat=True)
    )
    now = timezone.now()
    existing = set(
        SyncQueueItem.objects.filter(prospect_id__in=ids).values_list("prospect_id", flat=True)
    )
    SyncQueueItem.objects.filter(prospect_id__in=existing).update(
        generation=F("generation") + 1, reason=reason, requested_at=now, not_before=None
    )
    SyncQueueItem.objects.bulk_create(
        [
            SyncQueueItem(prospect_id=pk, reason=reason, requested_at=now)
            for pk in ids
            if pk not in existing
        ],
        ignore_conflicts=True,
    )
    Prospect.objects.filter(pk__in=ids).update(sync_status=SyncStatus.PENDING)
    return len(ids)


def _queue_many_postgresql(prospect_ids: list[int], reason: SyncReason) -> int:
    """One statement: queue rows created or their generation bumped, prospects marked pending
    (those already pending are not rewritten, nor looked up again: a writer that marked them
    in its own update, as the action set does, spares the table a second row version)."""
    queue = SyncQueueItem._meta.db_table
    prospects = Prospect._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted AS (
                SELECT id, sync_status IS DISTINCT FROM %s AS stale FROM {prospects}
                WHERE id = ANY(%s::bigint[]) AND NOT do_not_sync
            ), queued AS (
                INSERT INTO {queue}
                    (prospect_id, reason, requested_at, generation, attempts, claimed_by)
                SELECT id, %s, %s, 1, 0, '' FROM wanted
                ON CONFLICT (prospect_id) DO UPDATE SET
                    generation = {queue}.generation + 1,
                    reason = EXCLUDED.reason,
                    requested_at = EXCLUDED.requested_at,
                    not_before = NULL
            ), marked AS (
                UPDATE {prospects} SET sync_status = %s
                WHERE id IN (SELECT id FROM wanted WHERE stale)
                    AND sync_status IS DISTINCT FROM %s
            )
            SELECT count(*) FROM wanted
            """,
            [
                SyncStatus.PENDING.value,
                prospect_ids,
                str(reason),
                timezone.now(),
                SyncStatus.PENDING.value,
                SyncStatus.PENDING.value,
            ],
        )
        return cursor.fetchone()[0]


def _queue_many_sqlite(prospect_ids: list[int], reason: SyncReason) -> int:
    """The PostgreSQL statement's twin for SQLite (an upsert, then the status): two statements
    whatever the count, where the ORM's bulk_create spent seconds per 10,000 rows."""
    queue = SyncQueueItem._meta.db_table
    prospects = Prospect._meta.db_table
    wanted = f"SELECT id FROM {prospects} WHERE id IN (SELECT value FROM json_each(%s)) AND NOT do_not_sync"
    ids = json.dumps(prospect_ids)
    with connection.cursor() as cursor:
        # "WHERE true" lets SQLite's parser tell the upsert's ON CONFLICT from a join's ON.
        cursor.execute(
            f"""
            INSERT INTO {queue}
                (prospect_id, reason, requested_at, generation, attempts, claimed_by)
            SELECT id, %s, %s, 1, 0, '' FROM ({wanted}) WHERE true
            ON CONFLICT (prospect_id) DO UPDATE SET
                generation = generation + 1,
                reason = excluded.reason,
                requested_at = excluded.requested_at,
                not_before = NULL
            """,
            [str(reason), connection.ops.adapt_datetimefield_value(timezone.now()), ids],
        )
        cursor.execute(
            f"UPDATE {prospects} SET sync_status = %s WHERE id IN ({wanted})",
            [SyncStatus.PENDING.value, ids],
        )
        return cursor.rowcount


def _mark_pending(prospect_id: int, reason: SyncReason) -> None:
    now = timezone.now()
    updated = SyncQueueItem.objects.filter(prospect_id=prospect_id).update(
        generation=F("generation") + 1, reason=reason, requested_at=now, not_before=None
    )
    if not updated:
        try:
            with transaction.atomic():
                SyncQueueItem.objects.create(
                    prospect_id=prospect_id, reason=reason, requested_at=now
                )
        except IntegrityError:  # another request created it a moment ago
            SyncQueueItem.objects.filter(prospect_id=prospect_id).update(
                generation=F("generation") + 1, reason=reason, requested_at=now
            )
    Prospect.objects.filter(pk=prospect_id).update(sync_status=SyncStatus.PENDING)


def wake_workers() -> None:
    """Ping the sync workers: enqueue the engine's wake-up job, by name, unless two already wait.

    The job itself decides whether and how to push (``sync.jobs.push_some``: not while the
    connector is paused; in batches on every sync worker above its batch threshold), so asking
    for a sync needs nothing from the connector. A failure to reach Redis loses nothing: the cron finds
    the pending rows.
    """
    try:
        queue = _sync_queue()
        # Only wake-ups count: the cron's jobs on this queue (its tick, verification, the
        # heartbeat) waiting behind a slow first tick made a backlog's wake-up go unsent.
        waiting = [i for i in queue.get_job_ids() if i.startswith(WAKE_UP_PREFIX)]
        if len(waiting) >= MAX_WAITING_WAKEUPS:
            return
        queue.enqueue(WAKE_UP_JOB, job_id=f"{WAKE_UP_PREFIX}{uuid.uuid4().hex}", job_timeout=1800)
    except Exception:  # noqa: BLE001 - Redis down: the cron recovers from the DB
        log.warning("could not wake a sync worker; the next cron tick will push", exc_info=True)


@functools.cache
def _sync_queue() -> Queue:
    """One per process, its Redis client's connections kept: ``django_rq.get_queue`` makes a
    new client, so a new connection, every call — and the form handler worker asks after every
    batch. (redis-py's pool starts again after a fork.)"""
    return django_rq.get_queue(SYNC_QUEUE)

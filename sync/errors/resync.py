"""Resync: ask for prospects' sync again, now, and say what became of each.

The resync buttons (one row, the selection, everything the filter matches) and the corrected-CSV
re-import call these functions; they mark the prospects pending and push through the engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from prospects.models import Prospect
from sync.engine import queue
from sync.engine.outbound import Outcome, PushReport, Result, push_prospects
from sync.models import Connector, SyncError, SyncQueueItem, SyncReason
from sync.salesforce import COLLECTION_SIZE, SalesforceError
from sync.triggers import request_sync_many

# -- resync -------------------------------------------------------------------------------------


@dataclass
class ResyncReport:
    """What a resync did: the engine's outcomes, prospects that no longer exist, queued ones."""

    push: PushReport = field(default_factory=PushReport)
    missing: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)

    @property
    def cleared(self) -> int:
        return self.push.synced

    @property
    def failed(self) -> int:
        return self.push.failed

    def outcome(self, prospect_id: int) -> Outcome | None:
        return self.push.by_prospect().get(prospect_id)


def resync_prospects(
    *, prospect_ids: Sequence[int], connector: Connector | None = None
) -> ResyncReport:
    """Request a sync of these prospects and push them now when the connector is active.

    1. Prospects that no longer exist are reported, not pushed.
    2. The rest are marked pending (``request_sync_many``): the database keeps the request even
       if this push dies, and the worker finishes it.
    3. With an active connector, the pending rows not claimed by a worker are claimed, pushed
       through the engine and settled (transient failures go back with backoff).
    """
    report = ResyncReport()
    wanted = list(dict.fromkeys(prospect_ids))
    existing = set(Prospect.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    report.missing = [pk for pk in wanted if pk not in existing]
    ids = [pk for pk in wanted if pk in existing]
    if not ids:
        return report
    with transaction.atomic():
        request_sync_many(ids, SyncReason.ERROR_RESYNC)
    connector = connector or Connector.objects.syncing()
    if connector is None or not connector.may_sync:
        report.queued = ids
        return report
    claims = _claim(ids)
    report.queued = sorted(set(ids) - {c.prospect_id for c in claims})
    if not claims:
        return report
    try:
        report.push = push_prospects(
            connector=connector, prospect_ids=[c.prospect_id for c in claims]
        )
    except SalesforceError as exc:  # e.g. the token endpoint refused: the worker retries
        queue.release(claims)
        report.push = PushReport(
            [Outcome(c.prospect_id, Result.RETRY, message=exc.message) for c in claims]
        )
        return report
    retry = report.push.retry_ids
    queue.settle_retry([c for c in claims if c.prospect_id in retry])
    _settle_done([c for c in claims if c.prospect_id not in retry])
    return report


def _settle_done(claims: list[queue.Claim]) -> None:
    """``queue.settle_done`` in two statements: delete the rows still at the pushed generation,
    release the rest (a newer request arrived while the push was in flight)."""
    if not claims:
        return
    pushed = Q()
    for claim in claims:
        pushed |= Q(pk=claim.item_id, generation=claim.generation)
    SyncQueueItem.objects.filter(pushed).delete()
    SyncQueueItem.objects.filter(pk__in=[c.item_id for c in claims]).update(
        claimed_at=None, claimed_by=""
    )


def _claim(prospect_ids: list[int]) -> list[queue.Claim]:
    """Claim these prospects' pending rows (skipping any a worker holds); commit the claim."""
    token = f"errors-resync:{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    queue.claimable(now).filter(prospect_id__in=prospect_ids).update(
        claimed_at=now, claimed_by=token
    )
    rows = SyncQueueItem.objects.filter(claimed_by=token).values(
        "pk", "prospect_id", "generation", "attempts"
    )
    return [queue.Claim(r["pk"], r["prospect_id"], r["generation"], r["attempts"]) for r in rows]


# -- one row --------------------------------------------------------------------------------------


@dataclass
class RowResult:
    """What resyncing one error's prospect did, for the row that replaces it on the page."""

    state: str  # cleared, failed, queued, waiting, retry, deleted
    message: str = ""
    errors: list = field(default_factory=list)  # the prospect's open errors afterwards


def resync_error(*, error: SyncError) -> RowResult:
    """Resync the prospect behind ``error`` now and say what became of the row.

    An error whose prospect was deleted cannot be resynced: it is resolved as such.
    """
    if error.prospect_id is None or not Prospect.objects.filter(pk=error.prospect_id).exists():
        SyncError.objects.filter(pk=error.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=SyncError.Resolution.PROSPECT_DELETED
        )
        return RowResult("deleted", "The prospect was deleted; there is nothing to resync.")
    report = resync_prospects(prospect_ids=[error.prospect_id], connector=None)
    still_open = list(SyncError.objects.open().filter(prospect_id=error.prospect_id))
    outcome = report.outcome(error.prospect_id)
    if outcome is None:
        return RowResult(
            "queued", "Queued: the connector is paused or a worker is syncing it.", still_open
        )
    if outcome.result in (Result.SYNCED, Result.NOTHING):
        where = f" with {outcome.sobject} {outcome.record_id}" if outcome.record_id else ""
        return RowResult("cleared", f"Cleared: synced{where}.")
    if outcome.result == Result.ERROR:
        return RowResult("failed", outcome.message, still_open)
    if outcome.result == Result.WAITING:
        return RowResult("waiting", "Not synced: waiting for assignment.", still_open)
    return RowResult(
        "retry", f"Salesforce is unavailable ({outcome.message}); retrying.", still_open
    )


def resync_in_chunks(
    *,
    prospect_ids: Sequence[int],
    on_chunk: Callable[[ResyncReport, int], None],
    chunk_size: int = COLLECTION_SIZE,
    workers: int | None = None,
) -> None:
    """``resync_prospects`` for many prospects, a Collections call's worth at a time.

    On PostgreSQL several chunks go out at once (``SYNC_ERRORS_RESYNC_WORKERS`` threads, each
    with its own database connection): most of a chunk's time is spent waiting on Salesforce.
    SQLite allows one writer, so there the chunks run one after another.
    """
    chunks = [
        list(prospect_ids[i : i + chunk_size]) for i in range(0, len(prospect_ids), chunk_size)
    ]
    if workers is None:
        workers = getattr(settings, "SYNC_ERRORS_RESYNC_WORKERS", 4)
    if db_connection.vendor != "postgresql" or workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            on_chunk(resync_prospects(prospect_ids=chunk), len(chunk))
        return

    def run(chunk: list[int]) -> tuple[ResyncReport, int]:
        try:
            return resync_prospects(prospect_ids=chunk), len(chunk)
        finally:
            db_connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for report, size in pool.map(run, chunks):
            on_chunk(report, size)

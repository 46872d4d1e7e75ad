"""Resync: ask for prospects' sync again, and say what became of them.

Nothing here calls Salesforce. A resync marks the prospects pending (``request_sync_many``),
which wakes the sync workers once the transaction commits; the worker pushes them through the
one claim/settle protocol of the engine. The page then reads what became of each prospect from
the database alone: its queue row while it waits, its status and open errors afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial

import django_rq
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import SYNC_QUEUE, request_sync_many
from sync.errors.member_resync import membership_state, requeue_memberships
from sync.models import MEMBER_SOBJECT, Connector, SyncError

log = logging.getLogger(__name__)

PUSH_NOW_JOB = "sync.jobs.push_now"
CHUNK = 1000  # prospects per statement (and per transaction when queueing)

# -- asking -------------------------------------------------------------------------------------


@dataclass
class ResyncRequest:
    """What a resync queued, and what it could not: prospects deleted or marked "Do not sync"."""

    queued: list[int] = field(default_factory=list)
    missing: int = 0
    skipped: int = 0

    def notes(self) -> str:
        """What the progress bar cannot tell: the prospects left out, and why."""
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped:,} marked “Do not sync” left alone.")
        if self.missing:
            parts.append(f"{self.missing:,} deleted meanwhile.")
        return " ".join(parts)


def request_resync(*, prospect_ids: Sequence[int]) -> ResyncRequest:
    """Mark these prospects pending for a resync and have a worker push them at once.

    A chunk of ids per transaction, so a resync of everything a filter matches never holds one
    long transaction. After each chunk commits, the engine's ``push_now`` job is enqueued for
    it: a resync goes out now even when the queue is above the batch threshold (where a plain
    request waits for the cron). Were Redis unreachable, the rows stay pending for the cron.
    """
    request = ResyncRequest()
    for chunk in _chunks(list(dict.fromkeys(prospect_ids))):
        do_not_sync = dict(Prospect.objects.filter(pk__in=chunk).values_list("pk", "do_not_sync"))
        ids = [pk for pk in chunk if do_not_sync.get(pk) is False]
        with transaction.atomic():
            request_sync_many(ids, SyncReason.ERROR_RESYNC)
            requeue_memberships(prospect_ids=ids)  # their refused campaign members, too
            transaction.on_commit(partial(_push_now, ids))
        request.queued += ids
        request.missing += len(chunk) - len(do_not_sync)
        request.skipped += len(do_not_sync) - len(ids)
    return request


# -- one row ------------------------------------------------------------------------------------

POLLING = frozenset({"queued", "syncing", "retry", "paused"})


@dataclass
class RowResult:
    """What became of one error's resync, for the row that replaces it on the page."""

    # queued, syncing, retry, paused (still pending: the row polls) ·
    # cleared, failed, waiting, deleted, skipped (settled)
    state: str
    message: str = ""
    errors: list = field(default_factory=list)  # the prospect's open errors, to show again

    @property
    def polling(self) -> bool:
        return self.state in POLLING


def resync_error(*, error: SyncError) -> RowResult:
    """The row's Resync button: queue the sync of the prospect behind ``error``.

    An error whose prospect was deleted cannot be resynced: it is resolved as such.
    """
    if not Prospect.objects.filter(pk=error.prospect_id).exists():
        SyncError.objects.filter(pk=error.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=SyncError.Resolution.PROSPECT_DELETED
        )
        return _deleted()
    request_resync(prospect_ids=[error.prospect_id])
    return resync_state(error=error)


def resync_state(*, error: SyncError) -> RowResult:
    """What became of the sync of ``error``'s prospect, read from the database (the row polls
    this every 2 seconds until it settles)."""
    if error.sobject == MEMBER_SOBJECT:
        state, message = membership_state(error)
        return RowResult(state, message)
    prospect = Prospect.objects.filter(pk=error.prospect_id).first()
    if prospect is None:
        return _deleted()
    item = SyncQueueItem.objects.filter(prospect=prospect).first()
    if item is not None:
        return _pending(item)
    if prospect.do_not_sync:
        return RowResult("skipped", "Marked “Do not sync”: it is never sent to Salesforce.")
    still_open = list(
        SyncError.objects.open()
        .filter(prospect=prospect)
        .exclude(sobject=MEMBER_SOBJECT)
        .order_by("-last_seen_at")
    )
    if prospect.sync_status == SyncStatus.WAITING_ASSIGNMENT:
        return RowResult(
            "waiting",
            "Not synced: waiting for assignment (assign it to a user or a queue).",
            still_open,
        )
    if still_open:
        return RowResult("failed", still_open[0].message, still_open)
    sobject, record_id = _record(prospect)
    where = f" with {sobject} {record_id}" if record_id else ""
    return RowResult("cleared", f"Cleared: synced{where}.")


def _pending(item: SyncQueueItem) -> RowResult:
    now = timezone.now()
    if Connector.objects.syncing() is None:
        return RowResult("paused", "Queued: the connector is paused; it syncs once it resumes.")
    if item.not_before and item.not_before > now:
        at = timezone.localtime(item.not_before).strftime("%H:%M:%S")
        return RowResult(
            "retry",
            f"Salesforce was unavailable ({item.attempts} attempt{'s'[: item.attempts != 1]}); "
            f"retrying at {at}.",
        )
    if item.claimed_at:  # a worker holds it (or held it and died: the claim expires, retaken)
        return RowResult("syncing", "Syncing with Salesforce…")
    return RowResult("queued", "Queued: a sync worker picks it up in a moment.")


def _deleted() -> RowResult:
    return RowResult("deleted", "The prospect was deleted; there is nothing to resync.")


def _record(prospect: Prospect) -> tuple[str, str]:
    if prospect.crm_contact_id:
        return "Contact", prospect.crm_contact_id
    if prospect.crm_lead_id:
        return "Lead", prospect.crm_lead_id
    return "Account", prospect.crm_account_id


# -- many rows ----------------------------------------------------------------------------------


@dataclass
class ResyncProgress:
    """How far the sync of a resync's prospects got, as the queue drains."""

    total: int
    pending: int = 0
    failing: int = 0
    waiting: int = 0

    @property
    def synced(self) -> int:
        """No longer pending: pushed (cleared or refused again), waiting, or deleted."""
        return self.total - self.pending

    @property
    def cleared(self) -> int:
        return self.synced - self.failing - self.waiting

    @property
    def settled(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        return int(100 * self.synced / self.total) if self.total else 100


def resync_progress(*, prospect_ids: Sequence[int]) -> ResyncProgress:
    """Count, among ``prospect_ids``, those still pending and, of the rest, those refused again
    or waiting for assignment (the others cleared). One query per ``CHUNK`` ids."""
    progress = ResyncProgress(total=len(prospect_ids))
    settled = Q(sync_queue_item__isnull=True)
    waiting = Q(sync_status=SyncStatus.WAITING_ASSIGNMENT)
    refused = Exists(SyncError.objects.open().filter(prospect=OuterRef("pk")))
    for chunk in _chunks(list(prospect_ids)):
        counts = Prospect.objects.filter(pk__in=chunk).aggregate(
            pending=Count("pk", filter=~settled),
            waiting=Count("pk", filter=settled & waiting),
            failing=Count("pk", filter=settled & ~waiting & Q(refused)),
        )
        progress.pending += counts["pending"]
        progress.waiting += counts["waiting"]
        progress.failing += counts["failing"]
    return progress


def _push_now(prospect_ids: list[int]) -> None:
    if not prospect_ids:
        return
    try:  # by name: the engine imports this package (it records Sync Errors), not the reverse
        django_rq.get_queue(SYNC_QUEUE).enqueue(PUSH_NOW_JOB, prospect_ids, job_timeout=1800)
    except Exception:  # noqa: BLE001 - Redis down: the rows are pending, the cron pushes them
        log.warning("could not enqueue a resync push; the next cron tick will push", exc_info=True)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]

"""Claiming pending prospects from the database queue, and settling them after a push.

Claims are short transactions (``select_for_update(skip_locked=True)`` on PostgreSQL) committed
before any HTTP call, so several workers on several machines share the queue and a killed worker's
claim simply expires (``CLAIM_TIMEOUT``) and is taken again.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from prospects.models import Prospect, SyncStatus
from sync.models import SyncQueueItem

SETTLE_CHUNK = 1000  # ids per statement


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SYNC_CLAIM_TIMEOUT", 300))


WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    item_id: int
    prospect_id: int
    generation: int
    attempts: int


def claimable(now: dt.datetime | None = None):
    now = now or timezone.now()
    return SyncQueueItem.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout()),
        Q(not_before__isnull=True) | Q(not_before__lte=now),
    )


def claim_batch(*, limit: int, worker: str = WORKER_ID) -> list[Claim]:
    """Take up to ``limit`` pending prospects, oldest request first, and commit the claim."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            claimable(now)
            .select_for_update(skip_locked=True)
            .order_by("requested_at", "pk")
            .values("pk", "prospect_id", "generation", "attempts")[:limit]
        )
        if rows:
            SyncQueueItem.objects.filter(pk__in=[r["pk"] for r in rows]).update(
                claimed_at=now, claimed_by=worker[:100]
            )
    return [Claim(r["pk"], r["prospect_id"], r["generation"], r["attempts"]) for r in rows]


def settle_done(claims: list[Claim]) -> None:
    """Remove pushed rows — unless a newer request arrived meanwhile (then release them).

    A few statements for any number of claims: one DELETE per generation and chunk, then
    whatever a newer request kept is released, its prospect shown pending again.
    """
    by_generation: dict[int, list[int]] = defaultdict(list)
    for claim in claims:
        by_generation[claim.generation].append(claim.item_id)
    with transaction.atomic():
        for generation, item_ids in by_generation.items():
            for start in range(0, len(item_ids), SETTLE_CHUNK):
                SyncQueueItem.objects.filter(
                    pk__in=item_ids[start : start + SETTLE_CHUNK], generation=generation
                ).delete()
        item_ids = [claim.item_id for claim in claims]
        for start in range(0, len(item_ids), SETTLE_CHUNK):
            kept = SyncQueueItem.objects.filter(pk__in=item_ids[start : start + SETTLE_CHUNK])
            # The push wrote "synced" (or "error") over the newer request's "pending".
            Prospect.objects.filter(pk__in=kept.values("prospect_id")).update(
                sync_status=SyncStatus.PENDING
            )
            kept.update(claimed_at=None, claimed_by="")


def max_attempts() -> int:
    """Pushes a prospect gets for transient failures before they become a Sync Error (about
    25 minutes of backoff with the default 10)."""
    return getattr(settings, "SYNC_MAX_ATTEMPTS", 10)


def exhausted(claim: Claim) -> bool:
    return claim.attempts + 1 >= max_attempts()


def settle_retry(claims: list[Claim], *, base_seconds: float = 2.0) -> None:
    """Put rows back with exponential backoff and jitter (a transient failure)."""
    now = timezone.now()
    for claim in claims:
        delay = min(600.0, base_seconds * 2**claim.attempts) * random.uniform(0.5, 1.5)
        SyncQueueItem.objects.filter(pk=claim.item_id).update(
            claimed_at=None,
            claimed_by="",
            attempts=F("attempts") + 1,
            not_before=now + dt.timedelta(seconds=delay),
        )


def release(claims: list[Claim]) -> None:
    SyncQueueItem.objects.filter(pk__in=[c.item_id for c in claims]).update(
        claimed_at=None, claimed_by=""
    )

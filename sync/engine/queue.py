"""The pending-sync queue's one protocol: claim, keep alive, settle.

Every push goes through it — the workers' batches (``sync/jobs.py``) and any caller that must
push a few prospects now (:func:`push_now`)::

    lease = Lease()
    claims = lease.claim(limit=1000)              # or prospect_ids=[...]
    client.before_call = lease.keep_alive         # renewed before every Salesforce call
    report = push_prospects(connector=connector, prospect_ids=[...], client=client)
    settle(claims, report, connector=connector)

1. Claims are short transactions (``select_for_update(skip_locked=True)`` on PostgreSQL)
   committed before any HTTP call, so workers on several machines share the queue.
2. A claim lasts ``SYNC_CLAIM_TIMEOUT`` after its last renewal. A live push renews its claims
   before every Salesforce call (bulk polls included); a killed worker's claims simply expire
   and are taken again.
3. Settling: a row pushed at its current generation is deleted; one a newer request bumped
   meanwhile goes back to pending. A push settles only the rows it still holds: a row another
   worker took over after this claim expired is that worker's to settle. A transient failure comes back after an exponential
   backoff with jitter; on the last of ``SYNC_MAX_ATTEMPTS`` it becomes a Sync Error (except a
   broken connection, which waits for the connector to be fixed).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from prospects.models import Prospect, SyncQueueItem, SyncStatus
from sync import bulk_sql
from sync.engine.outbound import CONNECTION_CODES, PushReport, Result, give_up, push_prospects
from sync.models import Connector
from sync.salesforce import Client

SETTLE_CHUNK = 1000  # ids per statement
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
RENEWALS_PER_TIMEOUT = 5  # a live claim is renewed this often within one timeout


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SYNC_CLAIM_TIMEOUT)


def max_attempts() -> int:
    """Pushes a prospect gets for transient failures before they become a Sync Error (about
    25 minutes of backoff with the default 10)."""
    return settings.SYNC_MAX_ATTEMPTS


@dataclass(frozen=True)
class Claim:
    item_id: int
    prospect_id: int
    generation: int
    attempts: int
    token: str  # the lease's: settling touches the row only while this push still holds it


def claimable(now: dt.datetime | None = None) -> QuerySet[SyncQueueItem]:
    """Rows nobody holds (or whose holder stopped renewing) and not backing off."""
    now = now or timezone.now()
    return SyncQueueItem.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout()),
        Q(not_before__isnull=True) | Q(not_before__lte=now),
    )


class Lease:
    """The claims one push holds, under a token of its own (``claimed_by``)."""

    def __init__(self, worker: str = WORKER_ID) -> None:
        self.token = f"{worker[:80]}/{uuid.uuid4().hex[:12]}"
        self._renewed = time.monotonic()
        # Rows this lease claimed and, at its last renewal, still held: a renewal looks them
        # up by primary key (``claimed_by`` has no index, and a scan of a long queue for it at
        # every renewal costs more than the claims).
        self._held: set[int] = set()

    def claim(
        self, *, limit: int | None = None, prospect_ids: Sequence[int] | None = None
    ) -> list[Claim]:
        """Take up to ``limit`` claimable rows (of these prospects, if given), oldest request
        first, and commit the claim. Rows another push holds are skipped, not waited for."""
        now = timezone.now()
        rows = claimable(now)
        if prospect_ids is not None:
            rows = rows.filter(prospect_id__in=list(prospect_ids))
        with transaction.atomic():
            taken = list(
                rows.select_for_update(skip_locked=True)
                .order_by("requested_at", "pk")
                .values("pk", "prospect_id", "generation", "attempts")[:limit]
            )
            for chunk in _chunks([r["pk"] for r in taken]):
                SyncQueueItem.objects.filter(bulk_sql.any_of("pk", chunk)).update(
                    claimed_at=now, claimed_by=self.token
                )
        self._renewed = time.monotonic()
        self._held.update(r["pk"] for r in taken)
        return [
            Claim(r["pk"], r["prospect_id"], r["generation"], r["attempts"], self.token)
            for r in taken
        ]

    def renew(self) -> int:
        """Move every claim this lease still holds to now; returns how many it holds.

        Rows settled since (deleted, or released to another worker) are left out, and are
        forgotten: only this lease's own claims are looked at, by primary key."""
        self._renewed = time.monotonic()
        if not self._held:
            return 0
        now = timezone.now()
        held: set[int] = set()
        for chunk in _chunks(sorted(self._held)):
            mine = SyncQueueItem.objects.filter(bulk_sql.any_of("pk", chunk), claimed_by=self.token)
            mine.update(claimed_at=now)
            held.update(mine.values_list("pk", flat=True))
        self._held = held
        return len(held)

    def forget(self, claims: Sequence[Claim]) -> None:
        """Stop renewing these claims: their batch is settled (a long push holds only what it
        has in hand, not every row it ever claimed)."""
        self._held.difference_update(claim.item_id for claim in claims)

    def keep_alive(self) -> None:
        """``renew``, at most a few times per claim timeout (``Client.before_call`` calls it
        before every Salesforce call, so claims outlive no push and expire soon after one)."""
        every = claim_timeout().total_seconds() / RENEWALS_PER_TIMEOUT
        if time.monotonic() - self._renewed >= every:
            self.renew()


def settle(claims: Sequence[Claim], report: PushReport, *, connector: Connector) -> None:
    """Record a pushed batch on the queue.

    1. Transient failures on their last attempt become Sync Errors and count as done — except
       a broken connection (credentials, TLS), which never gives up: it waits for the fix.
    2. The other transient failures come back later with backoff (``settle_retry``).
    3. The rest is done (``settle_done``).
    """
    retrying = {o.prospect_id: o for o in report.outcomes if o.result == Result.RETRY}
    retry, done = [], []
    for claim in claims:
        outcome = retrying.get(claim.prospect_id)
        if outcome is None:
            done.append(claim)
        elif exhausted(claim) and outcome.code not in CONNECTION_CODES:
            give_up(connector, outcome, attempts=claim.attempts + 1)
            done.append(claim)
        else:
            retry.append(claim)
    settle_retry(retry)
    settle_done(done)


def exhausted(claim: Claim) -> bool:
    return claim.attempts + 1 >= max_attempts()


def settle_done(claims: Sequence[Claim]) -> None:
    """Delete pushed rows — unless a newer request arrived meanwhile (then release them).

    A few statements for any number of claims: one DELETE per generation and chunk, then
    whatever a newer request kept is released, its prospect shown pending again. Rows another
    worker holds now are left to it.
    """
    by_generation: dict[tuple[int, str], list[int]] = defaultdict(list)
    for claim in claims:
        by_generation[claim.generation, claim.token].append(claim.item_id)
    with transaction.atomic():
        for (generation, token), item_ids in by_generation.items():
            for chunk in _chunks(item_ids):
                SyncQueueItem.objects.filter(
                    bulk_sql.any_of("pk", chunk), generation=generation, claimed_by=token
                ).delete()
        for token, item_ids in _by_token(claims).items():
            for chunk in _chunks(item_ids):
                kept = SyncQueueItem.objects.filter(bulk_sql.any_of("pk", chunk), claimed_by=token)
                # The push wrote "synced" (or "error") over the newer request's "pending".
                Prospect.objects.filter(pk__in=kept.values("prospect_id")).update(
                    sync_status=SyncStatus.PENDING
                )
                kept.update(claimed_at=None, claimed_by="")


def settle_retry(claims: Sequence[Claim], *, base_seconds: float = 2.0) -> None:
    """Put rows back after an exponential backoff with jitter (a transient failure): one
    statement per attempt count and chunk, so a failed batch comes back together."""
    now = timezone.now()
    by_attempts: dict[tuple[int, str], list[int]] = defaultdict(list)
    for claim in claims:
        by_attempts[claim.attempts, claim.token].append(claim.item_id)
    for (attempts, token), item_ids in by_attempts.items():
        for chunk in _chunks(item_ids):
            delay = min(600.0, base_seconds * 2**attempts) * random.uniform(0.5, 1.5)
            SyncQueueItem.objects.filter(pk__in=chunk, claimed_by=token).update(
                claimed_at=None,
                claimed_by="",
                attempts=F("attempts") + 1,
                not_before=now + dt.timedelta(seconds=delay),
            )


def release(claims: Sequence[Claim]) -> None:
    """Give rows back untouched (claimable at once), those this push still holds."""
    for token, item_ids in _by_token(claims).items():
        for chunk in _chunks(item_ids):
            SyncQueueItem.objects.filter(pk__in=chunk, claimed_by=token).update(
                claimed_at=None, claimed_by=""
            )


def push_now(
    *, connector: Connector, prospect_ids: Sequence[int], client: Client | None = None
) -> PushReport:
    """Push these prospects' pending rows now, through the queue, and settle them.

    Rows a worker holds, or that are backing off, are left to the queue: those prospects have
    no outcome in the report. Ask for the sync first (``request_sync_many``) so the database
    keeps the request even if this push dies.
    """
    lease = Lease()
    claims = lease.claim(prospect_ids=prospect_ids)
    if not claims:
        return PushReport()
    client = client or Client.for_connector(connector)
    client.before_call = lease.keep_alive
    report = push_prospects(
        connector=connector, prospect_ids=[c.prospect_id for c in claims], client=client
    )
    settle(claims, report, connector=connector)
    return report


def _by_token(claims: Sequence[Claim]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for claim in claims:
        grouped[claim.token].append(claim.item_id)
    return grouped


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), SETTLE_CHUNK):
        yield ids[start : start + SETTLE_CHUNK]

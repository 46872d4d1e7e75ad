"""Recording activities: the timeline rows, the points they earn and the prospect's last activity.

Every path that records something a prospect did (a form, a form handler, a landing page, the
preference centre) or that happened to it (an import, an assignment, a sync event) comes through
``record_activities`` or ``add_activities``, so points, scores and ``last_activity_at`` move the
same way for all of them, in a few statements per batch whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from core.bulk import clone
from prospects.models import (
    Activity,
    ActivityType,
    Prospect,
    ScoringRule,
    SyncReason,
    SyncStatus,
)
from prospects.models.scoring import SCORE_MAX, SCORE_MIN, UNRULED_TYPES
from prospects.scoring import regrade
from prospects.sync_requests import request_sync_many

# What the prospect itself did: these move ``last_activity_at`` (Pardot's "last activity" is the
# prospect's engagement). What merely happened to it — an import, an assignment, a sync event, a
# score adjustment or decay — is on the timeline but leaves the date alone, so a decay never
# postpones the next one and a push that creates the Lead does not ask for another push.
ENGAGEMENT_TYPES = frozenset(
    {
        ActivityType.FORM,
        ActivityType.FORM_HANDLER,
        ActivityType.LANDING_PAGE_VIEW,
        ActivityType.LANDING_PAGE,
        ActivityType.UNSUBSCRIBE,
        ActivityType.RESUBSCRIBE,
        ActivityType.PREFERENCES,
    }
)

# An item is a prospect id, or (prospect id, details) when each prospect's details differ.
ActivityItem = int | tuple[int, Mapping[str, Any]]


def record_activities(
    items: Sequence[ActivityItem],
    type: ActivityType | str,  # noqa: A002 - the model's field name
    *,
    title: str = "",
    details: Mapping[str, Any] | None = None,
    actor=None,
    occurred_at: dt.datetime | None = None,
    points: int | None = None,
    reason: SyncReason | str | None = SyncReason.SCORE_CHANGE,
    insert: Callable[[type[Activity], list[Activity]], None] | None = None,
) -> list[Activity]:
    """Record one activity of ``type`` per item, score it and ask for the syncs it causes.

    1. Each activity earns the points of its type's scoring rule (``points`` overrides it, for a
       score adjustment), stored on the row: a later rule change re-prices it (rescoring).
    2. The activities are inserted in one bulk statement.
    3. Scores and ``last_activity_at`` (engagement types only, never moved backwards) change in
       one UPDATE for the batch (one per distinct total when a prospect appears twice).
    4. The prospects are regraded (a submission often brings a job title or a company size).
    5. Prospects whose score, grade or last activity changed are queued for a sync with
       ``reason`` — pass your own (``SyncReason.FORM_HANDLER``...) so the queue keeps it; the
       default is ``SCORE_CHANGE``; ``None`` queues nothing (the caller syncs them itself, e.g.
       from ``changed_prospects`` of the returned rows).

    Call it inside the caller's transaction with batches of up to a few thousand items.
    ``insert(Activity, rows)`` replaces the bulk INSERT (the write core's ``executemany``; the
    rows' ids are then not set).
    """
    type = ActivityType(type)  # noqa: A001
    when = occurred_at or timezone.now()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    # One built by the constructor, the rest cloned from it (see core.bulk).
    template = Activity(type=type, occurred_at=when, title=title[:255], actor=user)
    rows = []
    for item in items:
        prospect_id, own = item if isinstance(item, tuple) else (item, None)
        rows.append(
            clone(
                template,
                prospect_id=prospect_id,
                details=dict(own if own is not None else details or {}),
            )
        )
    changed = add_activities(rows, points=points, insert=insert)
    if reason is not None and changed:
        request_sync_many(sorted(changed), reason)
    return rows


def add_activities(
    activities: list[Activity],
    *,
    points: int | None = None,
    insert: Callable[[type[Activity], list[Activity]], None] | None = None,
    grade: bool = True,
) -> set[int]:
    """Insert unsaved activities of any types, price and apply them; returns the prospects
    whose score, grade or last activity changed (the caller asks for their sync).

    The engine calls it with the sync events of a whole chunk (created in the CRM, converted,
    assigned), passing its own ``insert`` (``COPY`` on PostgreSQL) and ``grade=False`` (a sync
    event changes no graded field): with their default zero points and no engagement, that is
    one query for the rules, one INSERT, and nothing else.
    """
    if not activities:
        return set()
    prices = ScoringRule.points_by_type() if points is None else {}
    for activity in activities:
        if points is not None:
            activity.points = points
        elif activity.type not in UNRULED_TYPES:
            activity.points = prices.get(activity.type, 0)
    with transaction.atomic():
        if insert is None:
            Activity.objects.bulk_create(activities, batch_size=1000)
        else:
            insert(Activity, activities)
        changed = _apply(activities)
        if grade:
            changed |= set(regrade(prospect_ids={a.prospect_id for a in activities}))
    return changed


def _apply(activities: Iterable[Activity]) -> set[int]:
    """Add each prospect's points and move its last activity: one UPDATE per distinct
    (points, newest engagement) pair — one for a batch of one type and time."""
    totals: dict[int, int] = defaultdict(int)
    newest: dict[int, dt.datetime | None] = {}
    for activity in activities:
        totals[activity.prospect_id] += activity.points
        seen = newest.get(activity.prospect_id)
        if activity.type in ENGAGEMENT_TYPES and (seen is None or activity.occurred_at > seen):
            newest[activity.prospect_id] = activity.occurred_at
        else:
            newest.setdefault(activity.prospect_id, seen)
    groups: dict[tuple[int, dt.datetime | None], list[int]] = defaultdict(list)
    for prospect_id, total in totals.items():
        groups[(total, newest[prospect_id])].append(prospect_id)
    changed: set[int] = set()
    for (total, when), ids in groups.items():
        changed |= _update(ids, total, when)
    return changed


def _update(ids: list[int], total: int, when: dt.datetime | None) -> set[int]:
    values: dict[str, Any] = {}
    changed: set[int] = set()
    if total:
        values["score"] = Greatest(Value(SCORE_MIN), Least(Value(SCORE_MAX), F("score") + total))
        changed.update(ids)
    if when is not None:
        later = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=when)
        moving = set(Prospect.objects.filter(later, pk__in=ids).values_list("pk", flat=True))
        if moving:
            changed |= moving
            values["last_activity_at"] = _latest(when)
    if values:
        Prospect.objects.filter(pk__in=ids).update(**values)
    return changed


def _latest(when: dt.datetime):
    """``last_activity_at`` moved to ``when`` unless it is already later (never backwards)."""
    later = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=when)
    return Case(When(later, then=Value(when)), default=F("last_activity_at"))


def record_activities_select(
    rows_sql: str,
    params: Sequence[Any],
    *,
    types: Sequence[ActivityType],
    occurred_at: dt.datetime,
    reason: SyncReason | str = SyncReason.SCORE_CHANGE,
) -> int:
    """``record_activities`` for the rows of a query, without the rows leaving PostgreSQL:
    ``rows_sql`` selects ``prospect_id, type, title, details`` (``details`` as ``jsonb``), one
    activity each, every ``type`` among ``types``. Returns how many were recorded.

    1. One statement inserts the activities, priced by the types' scoring rules, and adds
       each prospect's points to its score (clamped to the score's range), marking it pending
       as ``request_sync_many`` would ("Do not sync" prospects excepted) in the same update.
    2. The prospects whose score moved are queued for a sync with ``reason``.

    For what happens to a prospect (an opportunity's events, a sync event), not engagement:
    ``last_activity_at`` stays, and nothing graded changes, so nobody is regraded. Call it
    inside the caller's transaction, on PostgreSQL only (elsewhere, ``record_activities``).
    """
    if any(ActivityType(t) in ENGAGEMENT_TYPES for t in types):
        raise ValueError("engagement moves last_activity_at: use record_activities")
    prices = ScoringRule.points_by_type()
    points = " ".join(
        f"WHEN %s THEN {int(prices.get(t, 0))}" for t in types if t not in UNRULED_TYPES
    )
    activity, prospect = Activity._meta.db_table, Prospect._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted AS ({rows_sql}),
            added AS (
                INSERT INTO {activity}
                    (prospect_id, type, occurred_at, title, details, points, actor_id)
                SELECT prospect_id, type, %s, left(title, 255), details,
                       CASE type {points} ELSE 0 END, NULL
                FROM wanted
                RETURNING prospect_id, points
            ), totals AS (
                SELECT prospect_id, sum(points) AS total, count(*) AS added FROM added
                GROUP BY prospect_id
            ), scored AS (
                UPDATE {prospect} p
                SET score = GREATEST(%s, LEAST(%s, p.score + t.total)),
                    -- As request_sync_many marks it, below: one row version, not two.
                    sync_status = CASE WHEN p.do_not_sync THEN p.sync_status ELSE %s END
                FROM totals t
                WHERE p.id = t.prospect_id AND t.total <> 0
                RETURNING p.id
            )
            SELECT (SELECT coalesce(sum(added), 0) FROM totals), (SELECT array_agg(id) FROM scored)
            """,
            [
                *params,
                occurred_at,
                *(str(t) for t in types if t not in UNRULED_TYPES),
                SCORE_MIN,
                SCORE_MAX,
                SyncStatus.PENDING.value,
            ],
        )
        recorded, changed = cursor.fetchone()
    if changed:
        request_sync_many(sorted(changed), reason)
    return recorded


def adjust_scores(
    prospect_ids: Sequence[int],
    points: int,
    *,
    title: str,
    actor=None,
    reason: SyncReason | str | None = SyncReason.SCORE_CHANGE,
) -> list[Activity]:
    """Add ``points`` (negative to take away) to these prospects' scores, on their timelines:
    a completion action's or automation rule's "adjust score", or a marketer's. Rescoring never
    re-prices an adjustment."""
    return record_activities(
        prospect_ids,
        ActivityType.SCORE_ADJUSTED,
        title=title,
        actor=actor,
        points=points,
        reason=reason,
    )

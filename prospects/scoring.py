"""Scores and grades recomputed in SQL: set-based statements over all prospects, never a loop.

- ``apply_scores``: the one statement both use — every changed score and grade written once.
- ``rescore``: re-price every activity at its type's current rule and add the difference to its
  prospect's score (Pardot's retroactive rescoring; manual adjustments survive).
- ``regrade``: each grading profile's criteria as one SQL expression.
- ``decay_scores``: take a share of the score of prospects idle for the decay period (the cron).
- ``recompute_scores``: rescore and regrade together, queueing the changed prospects.

``grade_for`` and ``rescored`` are the same rules in Python, for tests to compare against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, Substr, Trim
from django.db.models.lookups import Exact
from django.utils import timezone

from prospects.models import (
    GRADE_LEVELS,
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    ScoringSettings,
    SyncReason,
    SyncStatus,
)
from prospects.models.scoring import RULED_TYPES, SCORE_MAX, SCORE_MIN, START_LEVEL
from prospects.sync_requests import (
    PENDING_UNLESS_DO_NOT_SYNC,
    request_sync_many,
    request_sync_select,
)

CHUNK = 5000
# ``PENDING_UNLESS_DO_NOT_SYNC`` for the ORM's update().
PENDING_UNLESS_DO_NOT_SYNC_EXPR = Case(
    When(do_not_sync=True, then=F("sync_status")), default=Value(SyncStatus.PENDING.value)
)
# Every grade in a two-character slot, so a level picks its grade with SUBSTR and TRIM.
GRADE_SLOTS = "".join(f"{grade:<2}" for grade in GRADE_LEVELS)
TOP_LEVEL = len(GRADE_LEVELS) - 1
Criterion = GradingCriterion


# -- grading ---------------------------------------------------------------------------------
def _usable(criterion: Criterion) -> bool:
    if criterion.field == Criterion.Field.EMPLOYEES:
        return criterion.minimum is not None or criterion.maximum is not None
    return any(str(v).strip() for v in criterion.values or ())


def _known(criterion: Criterion) -> Q:
    if criterion.field == Criterion.Field.EMPLOYEES:
        return Q(employees__isnull=False)
    return ~Q(**{criterion.field: ""})


def _matches(criterion: Criterion) -> Q:
    if criterion.field == Criterion.Field.EMPLOYEES:
        bounds = Q()
        if criterion.minimum is not None:
            bounds &= Q(employees__gte=criterion.minimum)
        if criterion.maximum is not None:
            bounds &= Q(employees__lte=criterion.maximum)
        return bounds
    lookup = "icontains" if criterion.match == Criterion.Match.CONTAINS else "iexact"
    found = Q()
    for value in criterion.values:
        if str(value).strip():
            found |= Q(**{f"{criterion.field}__{lookup}": str(value).strip()})
    return found


def grade_expression(criteria: Iterable[Criterion]):
    """The grade a profile's criteria give, as one SQL expression over the prospect's row."""
    usable = [c for c in criteria if _usable(c)]
    if not usable:
        return Value("")
    level = Value(START_LEVEL)
    judged = Value(0)
    for c in usable:
        known = _known(c)
        level = level + Case(
            When(known & _matches(c), then=Value(c.weight)),
            When(known, then=Value(-c.weight)),
            default=Value(0),
            output_field=IntegerField(),
        )
        judged = judged + Case(When(known, then=Value(1)), default=Value(0))
    clamped = Greatest(Value(0), Least(Value(TOP_LEVEL), level))
    letter = Trim(Substr(Value(GRADE_SLOTS), clamped * 2 + 1, 2))
    return Case(When(Exact(judged, 0), then=Value("")), default=letter)


def grade_for(values: Mapping[str, Any], criteria: Iterable[Criterion]) -> str:
    """The same rule as ``grade_expression``, in Python (the tests' reference)."""
    level, judged = START_LEVEL, 0
    for c in (c for c in criteria if _usable(c)):
        value = values.get(c.field)
        if c.field == Criterion.Field.EMPLOYEES:
            if value is None:
                continue
            hit = (c.minimum is None or value >= c.minimum) and (
                c.maximum is None or value <= c.maximum
            )
        else:
            if not value:
                continue
            text = str(value).casefold()
            wanted = [str(v).strip().casefold() for v in c.values if str(v).strip()]
            if c.match == Criterion.Match.CONTAINS:
                hit = any(w in text for w in wanted)
            else:
                hit = text in wanted
        judged += 1
        level += c.weight if hit else -c.weight
    if not judged:
        return ""
    return GRADE_LEVELS[max(0, min(TOP_LEVEL, level))]


def _grade_case(profiles: list[GradingProfile]):
    """Every profile's grade expression in one: each prospect's own profile, else the default
    one; a prospect no profile grades keeps its grade."""
    whens = [
        When(grading_profile_id=p.pk, then=grade_expression(p.criteria.all())) for p in profiles
    ]
    default = next((p for p in profiles if p.is_default), None)
    if default is not None:
        whens.append(
            When(grading_profile__isnull=True, then=grade_expression(default.criteria.all()))
        )
    return Case(*whens, default=F("grade"), output_field=CharField())


def _priced(points: Mapping[str, int]):
    return Case(
        *[When(type=kind, then=Value(value)) for kind, value in points.items()],
        default=F("points"),
        output_field=IntegerField(),
    )


@dataclass
class Applied:
    """What one scoring UPDATE changed: the prospects whose score, and whose grade, moved,
    and how many of them were queued for a sync."""

    rescored: list[int]
    regraded: list[int]
    queued: int = 0


def apply_scores(
    *,
    points: Mapping[str, int] | None = None,
    profiles: list[GradingProfile] | None = None,
    prospect_ids: Iterable[int] | None = None,
    sync_reason: SyncReason | None = None,
) -> Applied:
    """Rescore (``points`` given) and regrade (``profiles`` given) in ONE set-based statement:

    1. The source: each prospect (of ``prospect_ids``, else all) with its new grade (its
       profile's criteria as a SQL expression) and, joined, the sum of its activities'
       re-pricing (rule points minus stored points) — grouped once, never per prospect.
    2. ``UPDATE prospects ... FROM`` the changes (kept in a temporary table): only rows whose
       score or grade moves are written, each once (score clamped to its range).
    3. Rescoring, the stale activities' points become the rule's (one UPDATE), so the next
       rescore starts from them.
    With ``sync_reason``, the changed prospects are queued for a sync in the same transaction;
    over every prospect, step 2 marks them pending as it writes them, so each row gets one new
    version, not two. SQLite ≥ 3.33 and PostgreSQL both speak ``UPDATE ... FROM``.
    """
    ids = None if prospect_ids is None else list(prospect_ids)
    prospects = Prospect.objects.order_by()
    if ids is not None:
        prospects = prospects.filter(pk__in=ids)
    new_grade = _grade_case(profiles) if profiles else F("grade")
    grades_sql, params = (
        prospects.annotate(new_grade=new_grade).values("id", "grade", "new_grade").query
    ).sql_with_params()
    params = list(params)
    if points is not None:
        priced = _priced(points)
        stale = (
            Activity.objects.order_by()
            .filter(type__in=[str(t) for t in RULED_TYPES])
            .annotate(new_points=priced)
            .exclude(points=F("new_points"))
        )
        if ids is not None:
            stale = stale.filter(prospect_id__in=ids)
        deltas_sql, delta_params = (
            stale.values("prospect_id").annotate(delta=Sum(F("new_points") - F("points"))).query
        ).sql_with_params()
        params += list(delta_params)
        joined = f"LEFT JOIN ({deltas_sql}) AS d ON d.prospect_id = g.id"
        delta = "d.delta"
    else:
        joined, delta = "", "CAST(NULL AS integer)"
    source = (
        f"SELECT g.id, g.grade, g.new_grade, {delta} AS delta FROM ({grades_sql}) AS g {joined} "
        f"WHERE {delta} <> 0 OR g.grade <> g.new_grade"
    )
    with transaction.atomic():
        if ids is None:
            rows, queued = _update_all(source, params, sync_reason)
        else:
            rows = _update_few(source, params)
            queued = request_sync_many([pk for pk, *_ in rows], sync_reason) if sync_reason else 0
        if points is not None:
            stale.update(points=priced)
    return Applied(
        rescored=[pk for pk, delta, _ in rows if delta],
        regraded=[pk for pk, _, regraded in rows if regraded],
        queued=queued,
    )


def _update_all(
    source: str, params: list, sync_reason: SyncReason | None
) -> tuple[list[tuple], int]:
    """Every prospect: the changes are worked out once, into a temporary table (SQLite's
    RETURNING cannot name the FROM side), then written by one ``UPDATE ... FROM`` — marking
    the rows pending too when they are to be queued — and queued from the same table."""
    table = connection.ops.quote_name(Prospect._meta.db_table)
    total = "score + s.delta"
    score = (
        f"CASE WHEN s.delta IS NULL THEN score WHEN {total} < {SCORE_MIN} THEN {SCORE_MIN} "
        f"WHEN {total} > {SCORE_MAX} THEN {SCORE_MAX} ELSE {total} END"
    )
    marked = f", {PENDING_UNLESS_DO_NOT_SYNC}" if sync_reason else ""
    changes = connection.ops.quote_name("scoring_changes")
    queued = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {changes}")
        cursor.execute(f"CREATE TEMPORARY TABLE {changes} AS {source}", params)
        # Without statistics PostgreSQL guesses 200 distinct ids and walks the primary key
        # once per change (a nested loop) where hashing the table is many times faster.
        cursor.execute(f"ANALYZE {changes}")
        cursor.execute(
            f"UPDATE {table} SET score = {score}, grade = s.new_grade{marked} "
            f"FROM {changes} AS s WHERE {table}.id = s.id"
        )
        if sync_reason:
            queued = request_sync_select(f"SELECT id FROM {changes}", [], sync_reason)
        cursor.execute(f"SELECT id, delta, grade <> new_grade FROM {changes}")
        rows = cursor.fetchall()
        cursor.execute(f"DROP TABLE {changes}")
    return rows, queued


def _update_few(source: str, params: list) -> list[tuple]:
    """A few prospects (the ones an activity or an edit touched): the changes are read, then
    written one UPDATE per distinct (grade, points) pair — no temporary table per request."""
    table = connection.ops.quote_name(Prospect._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(source, params)
        found = cursor.fetchall()
        groups: dict[tuple, list[int]] = {}
        for pk, _grade, new_grade, delta in found:
            groups.setdefault((new_grade, delta), []).append(pk)
        for (new_grade, delta), ids in groups.items():
            assignments, values = ["grade = %s"], [new_grade]
            if delta:
                total = f"score + {int(delta)}"
                assignments.append(
                    f"score = CASE WHEN {total} < {SCORE_MIN} THEN {SCORE_MIN} "
                    f"WHEN {total} > {SCORE_MAX} THEN {SCORE_MAX} ELSE {total} END"
                )
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} WHERE id IN ({marks})",
                [*values, *ids],
            )
    return [(pk, delta, grade != new_grade) for pk, grade, new_grade, delta in found]


def regrade(*, prospect_ids: Iterable[int] | None = None) -> list[int]:
    """Set every prospect's grade from its profile (the default one when it has none); returns
    the prospects whose grade changed. Without any profile, grades are left as they are."""
    profiles = list(GradingProfile.objects.prefetch_related("criteria"))
    if not profiles:
        return []
    return apply_scores(profiles=profiles, prospect_ids=prospect_ids).regraded


# -- scoring ---------------------------------------------------------------------------------
def rescore(*, points: Mapping[str, int] | None = None) -> list[int]:
    """Re-price every activity at its type's current points and add the difference to its
    prospect's score (clamped to the score's range); returns the prospects whose score moved.
    Adjustments and decays keep their points, so manual changes survive a rescore."""
    points = ScoringRule.points_by_type() if points is None else points
    return apply_scores(points=points).rescored


def rescored(
    score: int, activities: Iterable[tuple[str, int]], points: Mapping[str, int]
) -> tuple[int, list[int]]:
    """The same rule as ``rescore`` for one prospect, in Python: its new score and the new
    points of its ``(type, points)`` activities (the tests' reference)."""
    new = [points.get(kind, old) for kind, old in activities]
    total = score + sum(n - old for n, (_, old) in zip(new, activities, strict=True))
    return max(SCORE_MIN, min(SCORE_MAX, total)), new


def decay_scores(
    *, now: dt.datetime | None = None, sync_reason: SyncReason | None = None
) -> list[int]:
    """Take ``decay_percent`` of the score of prospects idle for ``decay_after_days`` (no
    engagement, and no decay yet, within the period); returns the prospects it lowered.

    Each decay is a "Score decayed" activity carrying the points taken, so the timeline says
    why the score fell and a rescore leaves it alone. Run daily by the cron; running it twice
    in a period changes nothing the second time. With ``sync_reason`` the lowered prospects are
    queued for a sync in the same transaction, marked pending by the decay's own ``UPDATE``: one
    row version each, not a second for the status.
    """
    options = ScoringSettings.load()
    if not options.decay_enabled:
        return []
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=options.decay_after_days)
    recently_decayed = Activity.objects.filter(
        prospect=OuterRef("pk"), type=ActivityType.SCORE_DECAYED, occurred_at__gt=cutoff
    )
    idle = Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    due = (
        Prospect.objects.filter(idle, score__gt=0, archived_at__isnull=True)
        .exclude(Exists(recently_decayed))
        .annotate(loss=F("score") * options.decay_percent / 100)
        .filter(loss__gt=0)
    )
    title = f"{options.decay_percent}% after {options.decay_after_days} days without activity"
    lowered: list[int] = []
    with transaction.atomic():
        rows = list(due.values_list("pk", "loss"))
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            Activity.objects.bulk_create(
                [
                    Activity(
                        prospect_id=pk,
                        type=ActivityType.SCORE_DECAYED,
                        occurred_at=now,
                        title=title,
                        points=-loss,
                    )
                    for pk, loss in chunk
                ],
                batch_size=1000,
            )
            taken = Activity.objects.filter(
                prospect=OuterRef("pk"), type=ActivityType.SCORE_DECAYED, occurred_at=now
            ).values("points")[:1]
            ids = [pk for pk, _ in chunk]
            marked = {"sync_status": PENDING_UNLESS_DO_NOT_SYNC_EXPR} if sync_reason else {}
            Prospect.objects.filter(pk__in=ids).update(
                score=F("score") + Coalesce(Subquery(taken, output_field=IntegerField()), 0),
                **marked,
            )
            if sync_reason:
                request_sync_many(ids, sync_reason)  # already pending: the rows are not rewritten
            lowered += ids
    return lowered


# -- the whole recompute ---------------------------------------------------------------------
@dataclass
class Recomputed:
    rescored: int
    regraded: int
    queued: int


def recompute_scores(*, progress: Callable[[int, int], None] | None = None) -> Recomputed:
    """Rescore and regrade every prospect in SQL and queue the changed ones for a sync
    (``SCORE_CHANGE``: score and grade are synced package fields), all in one transaction.
    ``progress(done, total)`` hears of its one step (the Recompute task's bar)."""
    step = progress or (lambda done, total: None)
    step(0, 1)
    profiles = list(GradingProfile.objects.prefetch_related("criteria"))
    applied = apply_scores(
        points=ScoringRule.points_by_type(),
        profiles=profiles or None,
        sync_reason=SyncReason.SCORE_CHANGE,
    )
    step(1, 1)
    return Recomputed(
        rescored=len(applied.rescored), regraded=len(applied.regraded), queued=applied.queued
    )


def decay_and_sync(*, now: dt.datetime | None = None) -> int:
    """The cron's daily decay: lower idle prospects' scores and queue them for a sync."""
    return len(decay_scores(now=now, sync_reason=SyncReason.SCORE_CHANGE))

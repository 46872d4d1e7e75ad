"""Scores and grades recomputed in SQL: set-based statements over all prospects, never a loop.

- ``rescore``: re-price every activity at its type's current rule and add the difference to its
  prospect's score (Pardot's retroactive rescoring; manual adjustments survive).
- ``regrade``: each grading profile's criteria as one SQL expression, applied in one UPDATE.
- ``decay_scores``: take a share of the score of prospects idle for the decay period (the cron).
- ``recompute_scores``: rescore and regrade, then queue the changed prospects for a sync.

``grade_for`` and ``rescored`` are the same rules in Python, for tests to compare against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import (
    Case,
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
)
from prospects.models.scoring import RULED_TYPES, SCORE_MAX, SCORE_MIN, START_LEVEL
from prospects.sync_requests import request_sync_many

CHUNK = 5000
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


def _graded_by(profile: GradingProfile) -> Q:
    return Q(grading_profile=profile) | (
        Q(grading_profile__isnull=True) if profile.is_default else Q(pk__in=[])
    )


def regrade(*, prospect_ids: Iterable[int] | None = None) -> list[int]:
    """Set every prospect's grade from its profile (the default one when it has none); returns
    the prospects whose grade changed. One UPDATE per profile, over all of its prospects (or
    just ``prospect_ids``). Without any profile, grades are left as they are."""
    profiles = list(GradingProfile.objects.prefetch_related("criteria"))
    if not profiles:
        return []
    ids = None if prospect_ids is None else list(prospect_ids)
    changed: list[int] = []
    for profile in profiles:
        expression = grade_expression(profile.criteria.all())
        scope = Prospect.objects.filter(_graded_by(profile))
        if ids is not None:
            scope = scope.filter(pk__in=ids)
        stale = scope.annotate(new_grade=expression).exclude(grade=F("new_grade"))
        found = list(stale.values_list("pk", flat=True))
        if found:
            for start in range(0, len(found), CHUNK):
                Prospect.objects.filter(pk__in=found[start : start + CHUNK]).update(
                    grade=expression
                )
            changed += found
    return changed


# -- scoring ---------------------------------------------------------------------------------
def _priced(points: Mapping[str, int]):
    return Case(
        *[When(type=kind, then=Value(value)) for kind, value in points.items()],
        default=F("points"),
        output_field=IntegerField(),
    )


def rescore(*, points: Mapping[str, int] | None = None) -> list[int]:
    """Re-price every activity at its type's current points and add the difference to its
    prospect's score (clamped to the score's range); returns the prospects whose score moved.

    1. Stale activities: a ruled type whose stored points differ from the rule's.
    2. One UPDATE of the prospects that have any: score + the sum of the differences.
    3. One UPDATE of the stale activities: their points become the rule's.
    """
    points = ScoringRule.points_by_type() if points is None else points
    priced = _priced(points)
    stale = (
        Activity.objects.filter(type__in=[str(t) for t in RULED_TYPES])
        .annotate(new_points=priced)
        .exclude(points=F("new_points"))
    )
    moved = list(
        stale.order_by()
        .values("prospect_id")
        .annotate(delta=Sum(F("new_points") - F("points")))
        .exclude(delta=0)
        .values_list("prospect_id", flat=True)
    )
    delta = Subquery(
        stale.filter(prospect=OuterRef("pk"))
        .order_by()
        .values("prospect_id")
        .annotate(delta=Sum(F("new_points") - F("points")))
        .values("delta")[:1],
        output_field=IntegerField(),
    )
    with transaction.atomic():
        for start in range(0, len(moved), CHUNK):
            Prospect.objects.filter(pk__in=moved[start : start + CHUNK]).update(
                score=Greatest(
                    Value(SCORE_MIN), Least(Value(SCORE_MAX), F("score") + Coalesce(delta, 0))
                )
            )
        Activity.objects.filter(type__in=list(points)).exclude(points=priced).update(points=priced)
    return moved


def rescored(
    score: int, activities: Iterable[tuple[str, int]], points: Mapping[str, int]
) -> tuple[int, list[int]]:
    """The same rule as ``rescore`` for one prospect, in Python: its new score and the new
    points of its ``(type, points)`` activities (the tests' reference)."""
    new = [points.get(kind, old) for kind, old in activities]
    total = score + sum(n - old for n, (_, old) in zip(new, activities, strict=True))
    return max(SCORE_MIN, min(SCORE_MAX, total)), new


def decay_scores(*, now: dt.datetime | None = None) -> list[int]:
    """Take ``decay_percent`` of the score of prospects idle for ``decay_after_days`` (no
    engagement, and no decay yet, within the period); returns the prospects it lowered.

    Each decay is a "Score decayed" activity carrying the points taken, so the timeline says
    why the score fell and a rescore leaves it alone. Run daily by the cron; running it twice
    in a period changes nothing the second time.
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
            Prospect.objects.filter(pk__in=ids).update(
                score=F("score") + Coalesce(Subquery(taken, output_field=IntegerField()), 0)
            )
            lowered += ids
    return lowered


# -- the whole recompute ---------------------------------------------------------------------
@dataclass
class Recomputed:
    rescored: int
    regraded: int
    queued: int


def recompute_scores(*, progress: Callable[[int, int], None] | None = None) -> Recomputed:
    """Rescore and regrade every prospect in SQL, then queue the changed ones for a sync
    (``SCORE_CHANGE``: score and grade are synced package fields). ``progress(done, total)``
    hears of each step (the Recompute task's bar)."""
    step = progress or (lambda done, total: None)
    step(0, 3)
    scored = rescore()
    step(1, 3)
    graded = regrade()
    step(2, 3)
    changed = sorted(set(scored) | set(graded))
    queued = 0
    for start in range(0, len(changed), CHUNK):
        queued += request_sync_many(changed[start : start + CHUNK], SyncReason.SCORE_CHANGE)
    step(3, 3)
    return Recomputed(rescored=len(scored), regraded=len(graded), queued=queued)


def decay_and_sync(*, now: dt.datetime | None = None) -> int:
    """The cron's daily decay: lower idle prospects' scores and queue them for a sync."""
    lowered = decay_scores(now=now)
    for start in range(0, len(lowered), CHUNK):
        request_sync_many(lowered[start : start + CHUNK], SyncReason.SCORE_CHANGE)
    return len(lowered)

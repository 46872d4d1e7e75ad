"""Automation rules: criteria (as dynamic lists) and actions (the action set), run set-based.

A run (``run_rule``):
1. Compiles the criteria and validates the actions. A field, list or campaign deleted since the
   rule was saved pauses the rule with the message in its run log and on the rule; nothing runs.
2. Chooses the prospects in SQL: a run-once rule takes every match; a repeat rule takes the
   matches changed since its watermark (``updated_at``, or a new member of a list its criteria
   read), less those the loop guard holds back (below).
3. Applies the actions through ``automation.actions.apply_actions`` (changed rows only, history,
   syncs queued in bulk with the automation-rule reason) and logs a ``RuleRun``.

The loop guard. Rule A sets a field to 1 when it is 2, rule B sets it to 2 when it is 1: each
run would wake the other, forever, each time queuing a sync. So a repeat rule acts on a prospect
at most once per *outside* change — a change by a person, an import, a form, the API or
Salesforce, anything but a rule:
- After acting, the run stamps each prospect it changed (``AutomationStamp``: the prospect's
  new ``updated_at`` and the outside change the chain started from, its ``origin_at``).
- A prospect whose ``updated_at`` still equals its stamp was last changed by a rule: its origin
  carries on. Otherwise its origin is its own ``updated_at`` (someone else changed it).
- ``RuleTouch(rule, prospect).origin_at`` remembers the origin each rule last acted for; the
  rule acts again only for a newer origin.
So a chain of rule actions set off by one outside change is at most as long as the number of
repeat rules, then stops. A prospect held back because another rule changed it after this one
acted is counted (``RuleRun.skipped``) and the run log names that rule ("the rules may be
fighting over a field"); a prospect merely seen again (the watermark's overlap) is not. The last rule to
act keeps its value until the next outside change, which starts a new round.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from automation.actions import InvalidActions, apply_actions, parse_actions
from automation.criteria import CriteriaError, iter_conditions, matching
from automation.models import AutomationStamp, ListMembership, Rule, RuleRun, RuleTouch
from prospects.models import Prospect

SAMPLE_SIZE = 20
# A repeat rule looks back this far before its watermark: a write that committed late (its
# ``updated_at`` stamped before the previous run read) is still seen; the loop guard makes
# seeing a prospect twice harmless.
OVERLAP = datetime.timedelta(seconds=120)
LOCK_NAMESPACE = 710017  # pg advisory locks: one run of a rule at a time


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Prospect]
    total: int  # live prospects
    problem: str = ""

    @property
    def matches_everyone(self) -> bool:
        return self.total > 0 and self.count >= self.total


def preview(criteria: dict, *, now: datetime.datetime | None = None) -> Preview:
    """How many prospects the criteria match now, and the 20 most recent of them."""
    total = Prospect.objects.active().count()
    try:
        matched = matching(criteria, now=now)
    except CriteriaError as error:
        return Preview(0, [], total, str(error))
    sample = list(matched.select_related("assigned_user", "assigned_queue")[:SAMPLE_SIZE])
    return Preview(matched.count(), sample, total)


def pause(rule: Rule, problem: str = "") -> None:
    Rule.objects.filter(pk=rule.pk).update(state=Rule.State.PAUSED, problem=problem)
    rule.state, rule.problem = Rule.State.PAUSED, problem


def activate(rule: Rule) -> None:
    """Switch a rule on (or resume it): it runs at once, then as its mode says."""
    Rule.objects.filter(pk=rule.pk).update(state=Rule.State.ACTIVE, problem="")
    rule.state, rule.problem = Rule.State.ACTIVE, ""


def run_rule(
    rule: Rule, *, trigger: str = "manual", now: datetime.datetime | None = None
) -> RuleRun | None:
    """One run of a rule (see the module's docstring); ``None`` when another run holds it."""
    if connection.vendor != "postgresql":
        # SQLite (make run: one worker, writes serialised by the database): no advisory locks.
        rule.refresh_from_db()
        return _run(rule, trigger=trigger, now=now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, rule.pk])
        if not cursor.fetchone()[0]:
            return None
    try:
        rule.refresh_from_db()
        return _run(rule, trigger=trigger, now=now or timezone.now())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, rule.pk])


def _run(rule: Rule, *, trigger: str, now: datetime.datetime) -> RuleRun:
    run = RuleRun(rule=rule, started_at=now, trigger=trigger)
    try:
        matched = matching(rule.criteria, now=now)
        actions = parse_actions(rule.actions)
    except (CriteriaError, InvalidActions) as error:
        message = f"Paused: {error}"
        pause(rule, message)
        run.message = message
        run.finished_at = timezone.now()
        run.save()
        return run
    label = f"Rule “{rule.name}”"
    if rule.mode == Rule.Mode.ONCE:
        result = apply_actions(actions, matched, source="rule", label=label)
        run.matched, run.changed, run.failed = result.matched, result.changed, result.failed
        run.message = " ".join(result.messages)
        Rule.objects.filter(pk=rule.pk).update(state=Rule.State.DONE, last_run_at=now)
    else:
        _run_repeat(rule, run, actions, _changed_since(rule, matched), label=label)
        Rule.objects.filter(pk=rule.pk).update(watermark=now - OVERLAP, last_run_at=now)
    run.finished_at = timezone.now()
    run.save()
    return run


def _changed_since(rule: Rule, matched: QuerySet) -> QuerySet:
    """A repeat rule's candidates: matches changed since its watermark (all, the first time)."""
    if rule.watermark is None:
        return matched
    changed = Q(updated_at__gt=rule.watermark)
    lists = [c.get("value") for c in iter_conditions(rule.criteria) if c.get("field") == "list"]
    if lists:
        joined = ListMembership.objects.filter(
            prospect=OuterRef("pk"), list_id__in=lists, added_at__gt=rule.watermark
        )
        changed |= Q(Exists(joined))
    return matched.filter(changed)


GUARD_SQL = """
CREATE TEMP TABLE automation_candidates AS
SELECT p.id,
       CASE WHEN s.updated_at = p.updated_at THEN s.origin_at ELSE p.updated_at END AS origin_at,
       t.origin_at AS touched_for,
       CASE WHEN s.updated_at = p.updated_at THEN s.rule_id END AS last_rule_id
FROM prospects_prospect p
JOIN ({candidates}) c ON c.id = p.id
LEFT JOIN automation_automationstamp s ON s.prospect_id = p.id
LEFT JOIN automation_ruletouch t ON t.prospect_id = p.id AND t.rule_id = %s
"""


def _run_repeat(rule: Rule, run: RuleRun, actions, candidates: QuerySet, *, label: str) -> None:
    """Act on the candidates the loop guard lets through; record touches and stamps."""
    sql, params = candidates.order_by().values("id").query.sql_with_params()
    started = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS automation_candidates")
        cursor.execute(GUARD_SQL.format(candidates=sql), [*params, rule.pk])
        cursor.execute(
            "SELECT id, origin_at FROM automation_candidates "
            "WHERE touched_for IS NULL OR touched_for < origin_at ORDER BY id"
        )
        origins = cursor.fetchall()
        cursor.execute(
            """
            SELECT count(*), {rule_ids}
            FROM automation_candidates
            WHERE touched_for >= origin_at AND last_rule_id IS NOT NULL AND last_rule_id <> %s
            """.format(rule_ids=_distinct_ids_sql("last_rule_id")),
            [rule.pk],
        )
        held, other_rules = cursor.fetchone()
        if isinstance(other_rules, str):  # SQLite's group_concat
            other_rules = [int(pk) for pk in other_rules.split(",")]
        cursor.execute("DROP TABLE automation_candidates")
    eligible = [pk for pk, _ in origins]
    result = apply_actions(actions, eligible, source="rule", label=label)
    _record(rule, origins, started)
    run.matched = len(eligible) + held
    run.changed, run.failed, run.skipped = result.changed, result.failed, held
    messages = list(result.messages)
    if held:
        messages.append(_guard_message(held, other_rules or []))
    run.message = " ".join(messages)


def _distinct_ids_sql(column: str) -> str:
    """The distinct values of an id column as one value: an array on PostgreSQL, a
    comma-separated text on SQLite (``make run``'s database)."""
    if connection.vendor == "postgresql":
        return f"array_agg(DISTINCT {column})"
    return f"group_concat(DISTINCT {column})"


def _record(rule: Rule, origins: list[tuple[int, datetime.datetime]], started) -> None:
    """Remember, for the loop guard, the origin this rule acted for on each prospect, and stamp
    the prospects its actions changed (``updated_at`` moved since the run started)."""
    if not origins:
        return
    if connection.vendor != "postgresql":
        _record_orm(rule, origins, started)
        return
    ids = [pk for pk, _ in origins]
    stamps = [origin for _, origin in origins]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO automation_ruletouch (rule_id, prospect_id, origin_at)
            SELECT %s, u.id, u.origin FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(id, origin)
            ON CONFLICT (rule_id, prospect_id) DO UPDATE SET origin_at = EXCLUDED.origin_at
            """,
            [rule.pk, ids, stamps],
        )
        cursor.execute(
            """
            INSERT INTO automation_automationstamp (prospect_id, updated_at, origin_at, rule_id)
            SELECT p.id, p.updated_at, u.origin, %s
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(id, origin)
            JOIN prospects_prospect p ON p.id = u.id AND p.updated_at >= %s
            ON CONFLICT (prospect_id) DO UPDATE SET updated_at = EXCLUDED.updated_at,
                origin_at = EXCLUDED.origin_at, rule_id = EXCLUDED.rule_id
            """,
            [rule.pk, ids, stamps, started],
        )


def _record_orm(rule: Rule, origins: list[tuple[int, datetime.datetime]], started) -> None:
    """``_record`` on SQLite (``make run``'s database): the same two upserts through the ORM."""
    # The temporary table's computed column comes back as SQLite stores datetimes: naive UTC
    # text. Read it as the aware datetime it is.
    origins = [(pk, _aware_utc(at)) for pk, at in origins]
    origin_of = dict(origins)
    ids = list(origin_of)
    changed = [
        row
        for start in range(0, len(ids), 10000)  # under SQLite's limit on query parameters
        for row in Prospect.objects.filter(
            pk__in=ids[start : start + 10000], updated_at__gte=started
        ).values_list("pk", "updated_at")
    ]
    with transaction.atomic():
        RuleTouch.objects.bulk_create(
            [RuleTouch(rule=rule, prospect_id=pk, origin_at=at) for pk, at in origins],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["rule", "prospect"],
            update_fields=["origin_at"],
        )
        AutomationStamp.objects.bulk_create(
            [
                AutomationStamp(prospect_id=pk, updated_at=at, origin_at=origin_of[pk], rule=rule)
                for pk, at in changed
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["prospect"],
            update_fields=["updated_at", "origin_at", "rule"],
        )


def _aware_utc(value) -> datetime.datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value


def _guard_message(held: int, other_rule_ids: list[int]) -> str:
    names = list(Rule.objects.filter(pk__in=other_rule_ids).values_list("name", flat=True))
    text = (
        f"Loop guard: {held:,} matching prospect(s) skipped — this rule already acted on them "
        "since their last change by a person, an import, a form or Salesforce."
    )
    if names:
        quoted = ", ".join(f"“{n}”" for n in sorted(names))
        text += (
            f" Rule {quoted} changed them after it: the rules may be fighting over a field; "
            "the last one to act keeps its value until the prospect changes otherwise."
        )
    return text


def run_repeating(*, now: datetime.datetime | None = None) -> list[RuleRun]:
    """Every active repeat rule, oldest first (the cron's minute; after list recomputes)."""
    runs = []
    for rule in Rule.objects.filter(state=Rule.State.ACTIVE, mode=Rule.Mode.REPEAT).order_by("pk"):
        run = run_rule(rule, trigger="schedule", now=now)
        if run is not None:
            runs.append(run)
    return runs

"""List membership, set-based: static lists take members by hand, import, bulk or completion
action; a dynamic list's members are whoever its criteria match, recomputed in SQL.

Every function here runs a constant number of statements whatever the number of prospects, and
keeps ``ProspectList.member_count`` exact (the list row is locked while it changes), so pages
never count a million rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from automation.criteria import CriteriaError, matching
from automation.models import ListMembership, ProspectList
from prospects.models import Prospect

Source = ListMembership.Source


ANALYZE_AFTER = 10000  # members added or removed by one recompute that call for fresh statistics


class ListError(ValueError):
    """A membership change the list refuses (a dynamic list's members come from its criteria)."""


@dataclasses.dataclass(frozen=True)
class Recompute:
    added: int
    removed: int
    member_count: int
    problem: str = ""


def _ids_sql(prospect_ids: Iterable[int] | QuerySet) -> tuple[str, list]:
    """A ``SELECT id`` over the given prospects: a queryset stays SQL (no ids in Python)."""
    if isinstance(prospect_ids, QuerySet):
        sql, params = prospect_ids.order_by().values("id").query.sql_with_params()
        return sql, list(params)
    ids = sorted({int(i) for i in prospect_ids})
    if connection.vendor == "postgresql":
        return "SELECT id FROM prospects_prospect WHERE id = ANY(%s::bigint[])", [ids]
    # SQLite: one JSON parameter, whatever the number of ids (no host-parameter limit).
    return "SELECT value FROM json_each(%s)", [json.dumps(ids)]


def add_members(
    prospect_list: ProspectList,
    prospect_ids: Iterable[int] | QuerySet,
    *,
    source: str = Source.MANUAL,
    actor=None,
) -> list[int]:
    """Add prospects to a static list; those already members are left as they were.

    Returns the ids that joined (the action set notes them in history). Archived and missing
    prospects are skipped. Raises ``ListError`` for a dynamic list."""
    if prospect_list.kind != ProspectList.Kind.STATIC:
        raise ListError(f"“{prospect_list.name}” is dynamic: its criteria choose its members.")
    select, params = _ids_sql(prospect_ids)
    with transaction.atomic():
        locked = ProspectList.objects.select_for_update().get(pk=prospect_list.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO automation_listmembership (list_id, prospect_id, source, added_at,
                                                       added_by_id)
                SELECT %s, p.id, %s, %s, %s FROM prospects_prospect p
                WHERE p.id IN ({select}) AND p.archived_at IS NULL
                ON CONFLICT (list_id, prospect_id) DO NOTHING
                RETURNING prospect_id
                """,
                [locked.pk, source, timezone.now(), getattr(actor, "pk", None), *params],
            )
            added = sorted(row[0] for row in cursor.fetchall())
        _count(locked, len(added))
    prospect_list.member_count = locked.member_count
    return added


def remove_members(
    prospect_list: ProspectList, prospect_ids: Iterable[int] | QuerySet, *, actor=None
) -> list[int]:
    """Remove prospects from a static list; returns the ids that left it."""
    if prospect_list.kind != ProspectList.Kind.STATIC:
        raise ListError(f"“{prospect_list.name}” is dynamic: its criteria choose its members.")
    select, params = _ids_sql(prospect_ids)
    with transaction.atomic():
        locked = ProspectList.objects.select_for_update().get(pk=prospect_list.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM automation_listmembership WHERE list_id = %s "
                f"AND prospect_id IN ({select}) RETURNING prospect_id",
                [locked.pk, *params],
            )
            removed = sorted(row[0] for row in cursor.fetchall())
        _count(locked, -len(removed))
    prospect_list.member_count = locked.member_count
    return removed


def _count(locked: ProspectList, delta: int) -> None:
    if delta:
        locked.member_count = max(0, locked.member_count + delta)
        ProspectList.objects.filter(pk=locked.pk).update(
            member_count=locked.member_count, updated_at=timezone.now()
        )


def recompute(prospect_list: ProspectList, *, now: datetime.datetime | None = None) -> Recompute:
    """Bring a dynamic list's members in line with its criteria, in two statements.

    1. Compile the criteria (a deleted field or list → the problem is saved on the list and
       its members stay as they were).
    2. Under the list's row lock: DELETE the members the criteria no longer match (an anti-join),
       INSERT … SELECT the new ones (an anti-join: existing rows keep their ``added_at``).
    3. ``member_count`` moves by the difference; ``recomputed_at`` is stamped.
    """
    now = now or timezone.now()
    try:
        match_sql, params = (
            matching(prospect_list.criteria, now=now)
            .order_by()
            .values("id")
            .query.sql_with_params()
        )
    except CriteriaError as error:
        problem = f"Not recomputed: {error}"
        ProspectList.objects.filter(pk=prospect_list.pk).update(problem=problem)
        prospect_list.problem = problem
        return Recompute(0, 0, prospect_list.member_count, problem)
    with transaction.atomic():
        locked = ProspectList.objects.select_for_update().get(pk=prospect_list.pk)
        if locked.kind != ProspectList.Kind.DYNAMIC:
            raise ListError(f"“{locked.name}” is static: it has no criteria to recompute.")
        with connection.cursor() as cursor:
            # The matching set is computed once into a temporary table both statements read.
            # (PostgreSQL drops it at commit; SQLite, make run's database, by the last DROP.)
            drop = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
            cursor.execute("DROP TABLE IF EXISTS automation_matched")
            cursor.execute(f"CREATE TEMP TABLE automation_matched{drop} AS {match_sql}", params)
            cursor.execute("ANALYZE automation_matched")
            cursor.execute(
                """
                DELETE FROM automation_listmembership WHERE list_id = %s
                AND NOT EXISTS (SELECT 1 FROM automation_matched s
                                WHERE s.id = automation_listmembership.prospect_id)
                """,
                [locked.pk],
            )
            removed = cursor.rowcount
            # Only the list's own recompute writes its members, under the row lock taken
            # above, so an anti-join finds the new ones; ON CONFLICT's speculative insertion
            # cost a quarter more per row.
            cursor.execute(
                """
                INSERT INTO automation_listmembership (list_id, prospect_id, source, added_at)
                SELECT %s, s.id, %s, %s FROM automation_matched s
                WHERE NOT EXISTS (SELECT 1 FROM automation_listmembership m
                                  WHERE m.list_id = %s AND m.prospect_id = s.id)
                """,
                [locked.pk, Source.CRITERIA, now, locked.pk],
            )
            added = cursor.rowcount
            if not drop:
                cursor.execute("DROP TABLE automation_matched")
            elif added + removed > max(ANALYZE_AFTER, locked.member_count // 10):
                # A big change (a new list's first recompute) before autovacuum has seen it:
                # fresh statistics, or the members page plans a sort of every member instead
                # of walking the (list, -id) index (258 ms for a page at 1,000,000, 15 after).
                cursor.execute("ANALYZE automation_listmembership")
        locked.member_count = max(0, locked.member_count + added - removed)
        ProspectList.objects.filter(pk=locked.pk).update(
            member_count=locked.member_count, recomputed_at=now, problem=""
        )
    prospect_list.member_count, prospect_list.recomputed_at = locked.member_count, now
    prospect_list.problem = ""
    return Recompute(added, removed, locked.member_count)


def recompute_all(*, now: datetime.datetime | None = None) -> dict[int, Recompute]:
    """Every dynamic list, lists that others' criteria read first (so those read fresh members)."""
    lists = list(ProspectList.objects.filter(kind=ProspectList.Kind.DYNAMIC))
    return {pl.pk: recompute(pl, now=now) for pl in ordered_for_recompute(lists)}


def ordered_for_recompute(lists: list[ProspectList]) -> list[ProspectList]:
    """Lists in dependency order: a list whose criteria read another list's membership comes
    after it (a cycle, which validation refuses for one list, is broken by id order)."""
    from automation.criteria import iter_conditions

    by_id = {pl.pk: pl for pl in lists}
    ordered: list[ProspectList] = []
    seen: set[int] = set()

    def visit(pl: ProspectList, path: frozenset[int]) -> None:
        if pl.pk in seen or pl.pk in path:
            return
        for condition in iter_conditions(pl.criteria):
            if condition.get("field") == "list":
                dependency = by_id.get(_int(condition.get("value")))
                if dependency is not None:
                    visit(dependency, path | {pl.pk})
        seen.add(pl.pk)
        ordered.append(pl)

    for pl in sorted(lists, key=lambda x: x.pk):
        visit(pl, frozenset())
    return ordered


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def lists_of(prospect: Prospect) -> QuerySet:
    """The lists a prospect is a member of (the prospect page's card)."""
    return ProspectList.objects.filter(memberships__prospect=prospect).order_by("name")

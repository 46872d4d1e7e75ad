"""Writing one prospect field over a chunk of prospects, set-based, changed rows only.

On PostgreSQL one statement does it all:

    WITH locked AS (SELECT id, <old value> FROM prospect
                    WHERE id = ANY(chunk) AND archived_at IS NULL AND <value differs>
                    ORDER BY id FOR UPDATE),
         changed AS (UPDATE prospect SET <value>, updated_at, field_changed_at
                     FROM locked WHERE prospect.id = locked.id RETURNING id, old),
         history AS (INSERT INTO sync_synchistory … SELECT … FROM changed)
    SELECT id FROM changed

``FOR UPDATE`` re-reads a row another transaction changed meanwhile and checks "differs" on
that newest version (PostgreSQL's read-committed re-check), so the comparison is always with
the current value and an older read never overwrites a newer write. Elsewhere (SQLite, the
local default) the same is done with the chunk's rows loaded and compared in Python inside the
transaction, which SQLite serialises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from automation.context import Context
from prospects.edits import jsonable
from prospects.models import Direction, Prospect, SyncHistory, SyncStatus


@dataclass
class ColumnWrite:
    """One field's write: SQL for PostgreSQL and the same in Python for other databases.

    SQL fragments read the prospect as ``p`` and name their parameters (``%(value)s``, from
    ``params``); a ``sets`` template names the column's value so far as ``{current}``, so several
    writes of one column (two custom fields) compose.
    """

    field: str  # the field history names ("country", "custom:tier", "assigned_queue")
    new: Any  # the new value as history keeps it
    sets: list[tuple[str, str]]  # (column, expression template)
    differs: str  # true where the row must change
    old: str  # the old value as history shows it
    stamps: list[str]  # fields stamped in field_changed_at ("most recent value wins")
    py_differs: Callable[[Prospect], bool]
    py_apply: Callable[[Prospect], None]
    py_old: Callable[[Prospect], Any]
    params: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)  # model attnames py_apply sets
    syncs: bool = True  # the prospects it changes are queued for a sync


def write_columns(writes: list[ColumnWrite], chunk: list[int], ctx: Context) -> list[set[int]]:
    """Apply ``writes`` to the chunk's prospects whose values differ; returns, per write, the
    ids it changed. PostgreSQL: one statement for all of them (one new row version and one
    history row per changed prospect, whatever the number of fields)."""
    if not chunk or not writes:
        return [set() for _ in writes]
    if ctx.postgres:
        return _write_postgresql(writes, chunk, ctx)
    return [set(_write_orm(write, chunk, ctx)) for write in writes]


def _named(sql: str, prefix: str) -> str:
    return re.sub(r"%\((\w+)\)s", lambda m: f"%({prefix}{m.group(1)})s", sql)


def _write_postgresql(writes: list[ColumnWrite], chunk: list[int], ctx: Context) -> list[set[int]]:
    prospects = Prospect._meta.db_table
    history = SyncHistory._meta.db_table
    stamp = ctx.now.isoformat()
    params: dict[str, Any] = {
        "ids": chunk,
        "now": ctx.now,
        "local": Direction.LOCAL.value,
        "operation": ctx.source.operation,
        "reason": ctx.reason.value,
        "done": SyncHistory.Result.DONE.value,
        "message": ctx.label,
        "actor": ctx.actor.pk if ctx.actor is not None else None,
        "label": ctx.actor_label,
    }
    selected, any_differs, stamps, changes = [], [], [], []
    values: dict[str, str] = {}
    for i, write in enumerate(writes):
        prefix = f"w{i}_"
        params.update({prefix + key: value for key, value in write.params.items()})
        params[prefix + "stamps"] = json.dumps(dict.fromkeys(write.stamps, stamp))
        params[prefix + "field"] = write.field
        params[prefix + "new"] = json.dumps(write.new)
        differs = _named(write.differs, prefix)
        selected.append(f"({differs}) AS d{i}, {_named(write.old, prefix)} AS old{i}")
        any_differs.append(f"({differs})")
        for column, template in write.sets:
            before = values.get(column, f"p.{column}")
            after = _named(template, prefix).replace("{current}", before)
            values[column] = f"CASE WHEN locked.d{i} THEN {after} ELSE {before} END"
        stamps.append(
            f"CASE WHEN locked.d{i} THEN %({prefix}stamps)s::jsonb ELSE '{{}}'::jsonb END"
        )
        changes.append(
            f"CASE WHEN d{i} THEN jsonb_build_object('field', %({prefix}field)s::text, "
            f"'old', to_jsonb(old{i}), 'new', %({prefix}new)s::jsonb) END"
        )
    # Prospects a syncing write changed are marked pending here, in the same row version
    # (``request_sync_many`` then leaves them as they are); "do not sync" ones keep their mark.
    syncing = [f"locked.d{i}" for i, write in enumerate(writes) if write.syncs]
    if syncing:
        keep = values.get("sync_status", "p.sync_status")
        skip = values.get("do_not_sync", "p.do_not_sync")
        params["pending"] = SyncStatus.PENDING.value
        values["sync_status"] = (
            f"CASE WHEN ({' OR '.join(syncing)}) AND NOT {skip} THEN %(pending)s ELSE {keep} END"
        )
    sets = ", ".join(f"{column} = {expr}" for column, expr in values.items())
    flags = ", ".join(f"d{i}" for i in range(len(writes)))
    sql = f"""
        WITH locked AS (
            SELECT p.id, {", ".join(selected)} FROM {prospects} p
            WHERE p.id = ANY(%(ids)s::bigint[]) AND p.archived_at IS NULL AND ({" OR ".join(any_differs)})
            ORDER BY p.id FOR UPDATE OF p
        ), changed AS (
            UPDATE {prospects} p SET {sets}, updated_at = %(now)s,
                field_changed_at = COALESCE(p.field_changed_at, '{{}}'::jsonb)
                    || {" || ".join(stamps)}
            FROM locked WHERE p.id = ANY(%(ids)s::bigint[]) AND p.id = locked.id
            RETURNING locked.*
        ), noted AS (
            INSERT INTO {history} (prospect_id, at, direction, operation, sobject, record_id,
                reason, changes, result, message, actor_id, actor_label)
            SELECT id, %(now)s, %(local)s, %(operation)s, '', '', %(reason)s,
                {_changes_sql(changes)},
                %(done)s, %(message)s, %(actor)s, %(label)s
            FROM changed
        )
        SELECT id, {flags} FROM changed ORDER BY id
    """
    changed: list[set[int]] = [set() for _ in writes]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            for i, flag in enumerate(row[1:]):
                if flag:
                    changed[i].add(row[0])
    return changed


def _changes_sql(changes: list[str]) -> str:
    """History's ``changes``: the fields each row changed, as a JSON array. One write changed
    every row it returns, so its entry is the array; several are gathered per row."""
    if len(changes) == 1:
        return f"jsonb_build_array({changes[0]})"
    return (
        f"(SELECT jsonb_agg(x) FROM unnest(ARRAY[{', '.join(changes)}]) AS x WHERE x IS NOT NULL)"
    )


def _write_orm(write: ColumnWrite, chunk: list[int], ctx: Context) -> list[int]:
    rows = Prospect.objects.select_for_update().filter(pk__in=chunk, archived_at__isnull=True)
    changed: list[Prospect] = []
    notes: list[SyncHistory] = []
    for prospect in rows.order_by("pk"):
        if not write.py_differs(prospect):
            continue
        old = write.py_old(prospect)
        write.py_apply(prospect)
        prospect.stamp_changes(write.stamps, at=ctx.now)
        prospect.updated_at = ctx.now
        changed.append(prospect)
        notes.append(
            SyncHistory(
                prospect_id=prospect.pk,
                at=ctx.now,
                direction=Direction.LOCAL,
                operation=ctx.source.operation,
                reason=ctx.reason,
                changes=[{"field": write.field, "old": jsonable(old), "new": write.new}],
                result=SyncHistory.Result.DONE,
                message=ctx.label,
                actor=ctx.actor,
                actor_label=ctx.actor_label,
            )
        )
    if changed:
        Prospect.objects.bulk_update(
            changed, [*write.columns, "field_changed_at", "updated_at"], batch_size=500
        )
        SyncHistory.objects.bulk_create(notes, batch_size=1000)
    return [p.pk for p in changed]

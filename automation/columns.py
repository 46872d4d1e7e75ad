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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from automation.context import Context
from prospects.edits import jsonable
from prospects.models import Direction, Prospect, SyncHistory


@dataclass
class ColumnWrite:
    """One field's write: SQL for PostgreSQL and the same in Python for other databases.

    SQL fragments read the prospect as ``p``; each is (sql, params).
    """

    field: str  # the field history names ("country", "custom:tier", "assigned_queue")
    new: Any  # the new value as history keeps it
    sets: list[tuple[str, list]]  # "column = expression" assignments
    differs: tuple[str, list]  # true where the row must change
    old: tuple[str, list]  # the old value as history shows it
    stamps: list[str]  # fields stamped in field_changed_at ("most recent value wins")
    py_differs: Callable[[Prospect], bool]
    py_apply: Callable[[Prospect], None]
    py_old: Callable[[Prospect], Any]
    columns: list[str] = field(default_factory=list)  # model attnames py_apply sets
    message: str = ""


def write_column(write: ColumnWrite, chunk: list[int], ctx: Context) -> list[int]:
    """Write ``write`` on the chunk's prospects whose value differs; returns their ids."""
    if not chunk:
        return []
    if ctx.postgres:
        return _write_postgresql(write, chunk, ctx)
    return _write_orm(write, chunk, ctx)


def _write_postgresql(write: ColumnWrite, chunk: list[int], ctx: Context) -> list[int]:
    prospects = Prospect._meta.db_table
    history = SyncHistory._meta.db_table
    differs_sql, differs_params = write.differs
    old_sql, old_params = write.old
    sets = ", ".join(sql for sql, _ in write.sets)
    set_params = [param for _, params in write.sets for param in params]
    stamp = ctx.now.isoformat()
    stamps = json.dumps(dict.fromkeys(write.stamps, stamp))
    sql = f"""
        WITH locked AS (
            SELECT p.id, {old_sql} AS old FROM {prospects} p
            WHERE p.id = ANY(%s) AND p.archived_at IS NULL AND ({differs_sql})
            ORDER BY p.id FOR UPDATE OF p
        ), changed AS (
            UPDATE {prospects} p SET {sets}, updated_at = %s,
                field_changed_at = COALESCE(p.field_changed_at, '{{}}'::jsonb) || %s::jsonb
            FROM locked WHERE p.id = locked.id
            RETURNING p.id, locked.old
        ), noted AS (
            INSERT INTO {history} (prospect_id, at, direction, operation, sobject, record_id,
                reason, changes, result, message, actor_id, actor_label)
            SELECT id, %s, %s, %s, '', '', %s,
                jsonb_build_array(jsonb_build_object(
                    'field', %s::text, 'old', to_jsonb(old), 'new', %s::jsonb)),
                %s, %s, %s, %s
            FROM changed
        )
        SELECT id FROM changed ORDER BY id
    """
    params = [
        *old_params,
        chunk,
        *differs_params,
        *set_params,
        ctx.now,
        stamps,
        ctx.now,
        Direction.LOCAL.value,
        ctx.source.operation,
        ctx.reason.value,
        write.field,
        json.dumps(write.new),
        SyncHistory.Result.DONE.value,
        write.message or ctx.label,
        ctx.actor.pk if ctx.actor is not None else None,
        ctx.actor_label,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


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
                message=write.message or ctx.label,
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

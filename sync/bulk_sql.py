"""Fast bulk writes for the engine's hot paths: PostgreSQL ``COPY``, elsewhere plain Django.

``bulk_create`` and ``bulk_update`` cost more than a push itself at 10,000 rows; ``COPY``
streams the rows in one round trip. Values go through each field's ``get_db_prep_save``, so
what lands is what Django would have written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F, Lookup

CHUNK = 5000
# Values a field's get_db_prep_save returns unchanged (it costs ~1 µs a call, per value).
_AS_IS = (
    ((models.CharField, models.TextField), frozenset({str, type(None)})),
    ((models.IntegerField, models.AutoField, models.ForeignKey), frozenset({int, type(None)})),
    ((models.BooleanField,), frozenset({bool, type(None)})),
)


class AnyOf(Lookup):
    """``column = ANY(%s)``: one array parameter instead of an ``IN`` list of thousands.

    The psycopg client cursor parses every ``%s`` of a query in Python, and PostgreSQL parses
    every literal: at 5,000 ids an ``IN`` list costs both sides more than the rows it finds.
    Elsewhere it is a plain ``IN``.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, conn):
        lhs, params = self.process_lhs(compiler, conn)
        values = list(self.rhs)
        if conn.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, values]
        if not values:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


def any_of(field: str, values: Iterable) -> AnyOf:
    """A filter for ``field`` among ``values``: ``Model.objects.filter(any_of("pk", ids))``."""
    return AnyOf(F(field), list(values))


def _prepared(objs: Sequence[models.Model], fields: list[models.Field]) -> list[list]:
    """Each object's values as Django would write them (``get_db_prep_save``), skipping the
    call where it changes nothing: text, integers, booleans and nulls of plain fields."""
    db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every value
    plans = [(f, f.attname, _as_is(f)) for f in fields]
    rows = []
    for obj in objs:
        row = []
        for f, attname, as_is in plans:
            value = getattr(obj, attname)
            row.append(value if type(value) in as_is else f.get_db_prep_save(value, db))
        rows.append(row)
    return rows


def _as_is(field: models.Field) -> frozenset:
    for kinds, types in _AS_IS:
        if isinstance(field, kinds):
            return types
    return frozenset()


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (primary keys from the database; not set back on the objects)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for start in range(0, len(objs), CHUNK):
            for row in _prepared(objs[start : start + CHUNK], fields):
                copy.write_row(row)


def update(model: type[models.Model], objs: Sequence[models.Model], names: list[str]) -> None:
    """UPDATE just the columns ``names`` of ``objs``, matched by primary key."""
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in names]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
        rows = [row + [obj.pk] for row, obj in zip(_prepared(objs, fields), objs, strict=True)]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)
        return
    # COPY into a temporary table of just these columns, then one UPDATE ... FROM.
    columns = [model._meta.pk.column] + [f.column for f in fields]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = s.{connection.ops.quote_name(f.column)}"
        for f in fields
    )
    staging = connection.ops.quote_name(f"staging_{model._meta.db_table}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
            for start in range(0, len(objs), CHUNK):
                chunk = objs[start : start + CHUNK]
                for obj, row in zip(chunk, _prepared(chunk, fields), strict=True):
                    copy.write_row([obj.pk, *row])
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {staging} AS s WHERE t.{pk} = s.{pk}"
        )
        cursor.execute(f"DROP TABLE {staging}")


def upsert(
    model: type[models.Model], objs: Sequence[models.Model], *, unique: str, names: list[str]
) -> None:
    """INSERT ``objs`` or, where a row with the same ``unique`` value exists, UPDATE its columns
    ``names``: a mirror's refresh. One ``unique`` value may appear once among ``objs``."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            objs, batch_size=500, update_conflicts=True, unique_fields=[unique], update_fields=names
        )
        return
    fields = [model._meta.get_field(unique)] + [model._meta.get_field(name) for name in names]
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    key = connection.ops.quote_name(fields[0].column)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = EXCLUDED.{connection.ops.quote_name(f.column)}"
        for f in fields[1:]
    )
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"upsert_{model._meta.db_table}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
            for start in range(0, len(objs), CHUNK):
                for row in _prepared(objs[start : start + CHUNK], fields):
                    copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {staging} "
            f"ON CONFLICT ({key}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f"DROP TABLE {staging}")

"""Fast bulk writes for the engine's hot paths: PostgreSQL ``COPY``, elsewhere plain Django.

``bulk_create`` and ``bulk_update`` cost more than a push itself at 10,000 rows; ``COPY``
streams the rows in one round trip. Values go through each field's ``get_db_prep_save``, so
what lands is what Django would have written.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models, transaction

CHUNK = 5000


def _prepared(objs: Sequence[models.Model], fields: list[models.Field]) -> list[list]:
    return [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objs
    ]


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

"""Fast bulk reads and writes for the engine's hot paths: PostgreSQL ``COPY``, elsewhere plain
Django.

``bulk_create`` and ``bulk_update`` cost more than a push itself at 10,000 rows; ``COPY``
streams the rows in one round trip. Values go through each field's ``get_db_prep_save``, so
what lands is what Django would have written. Reading back, ``load`` and ``values`` give what
the queryset would, without ``Model.__init__`` and with JSON columns parsed by orjson.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
import psycopg
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F, Lookup, QuerySet, prefetch_related_objects
from django.db.models.base import ModelState
from django.db.models.fields import NOT_PROVIDED
from django.db.models.query import ModelIterable
from psycopg.pq import Format

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
            sql, array = any_array(values)
            return f"{lhs} = {sql}", [*params, array]
        if not values:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


def any_array(values: list) -> tuple[str, Any]:
    """``ANY(…)`` of ``values`` on PostgreSQL, and its one parameter. Integers (ids) go as one
    array literal: psycopg would dump a list element by element, in Python (a tenth of a
    push's own time went on its id lists)."""
    if values and all(type(v) is int for v in values):
        return "ANY(%s::bigint[])", "{" + ",".join(map(str, values)) + "}"
    return "ANY(%s)", values


def any_of(field: str, values: Iterable) -> AnyOf:
    """A filter for ``field`` among ``values``: ``Model.objects.filter(any_of("pk", ids))``."""
    return AnyOf(F(field), list(values))


def load[M: models.Model](queryset: QuerySet[M]) -> list[M]:
    """The instances ``queryset`` yields, built without ``Model.__init__`` on PostgreSQL.

    Loading a prospect through Django costs the worker more than pushing it: ``__init__`` sets
    its fifty fields one by one through their descriptors and sends two signals, and each JSON
    column goes through ``json.loads``. Here a row's values are set on the instance at once and
    JSON columns are read by orjson (the same document; what orjson refuses goes to the field).
    Its prefetches of a plain foreign key (a batch's few users, queues, campaigns) are read in
    one query by primary key and set on each instance, as Django's prefetch would set them but
    without its bookkeeping per instance; other prefetches are done as Django does them.
    Querysets that ``select_related``, ``only``, ``defer`` or annotate, and every query on
    SQLite, go the ordinary way.
    """
    query = queryset.query
    if (
        connection.vendor != "postgresql"
        or query.select_related
        or query.annotations
        or query.deferred_loading != (frozenset(), True)
        or queryset._fields is not None
        or queryset._iterable_class is not ModelIterable
    ):
        return list(queryset)
    model = queryset.model
    names = [f.attname for f in model._meta.concrete_fields]
    objs = []
    make, state_of, db = model.__new__, ModelState, queryset.db
    for row in values(queryset, names):
        obj = make(model)
        loaded = obj.__dict__
        loaded.update(zip(names, row, strict=True))
        state = loaded["_state"] = state_of()
        state.adding, state.db = False, db
        objs.append(obj)
    others = [
        lookup
        for lookup in queryset._prefetch_related_lookups
        if not _prefetch_foreign_key(objs, model, lookup, db)
    ]
    if others:
        prefetch_related_objects(objs, *others)
    return objs


def _prefetch_foreign_key(objs: list, model: type[models.Model], lookup: Any, db: str) -> bool:
    """Prefetch ``lookup`` on ``objs`` if it names a foreign key to a primary key (``False``
    otherwise): the related rows read once, by their ids, through the related model's base
    manager as Django's prefetch reads them, and each instance's cache set (``None`` where
    the key is null; left unset where the row is gone, so reading it fails as Django's would)."""
    if not isinstance(lookup, str) or "__" in lookup:
        return False
    try:
        field = model._meta.get_field(lookup)
    except FieldDoesNotExist:
        return False
    if not (field.many_to_one and field.concrete and field.target_field.primary_key):
        return False
    attname = field.attname
    ids = {key for obj in objs if (key := obj.__dict__[attname]) is not None}
    related = field.related_model._base_manager.using(db).in_bulk(ids) if ids else {}
    cache = field.set_cached_value
    for obj in objs:
        key = obj.__dict__[attname]
        if key is None:
            cache(obj, None)
        elif (found := related.get(key)) is not None:
            cache(obj, found)
    return True


def values(queryset: QuerySet, names: Sequence[str]) -> list[tuple]:
    """``queryset.values_list(*names)`` as a list, JSON columns read by orjson on PostgreSQL
    (Django's ``json.loads`` takes a few times longer for the same document)."""
    rows = queryset.values_list(*names)
    if connection.vendor != "postgresql":
        return list(rows)
    rows._prefetch_related_lookups = ()
    meta = queryset.model._meta
    json_columns = []
    for i, name in enumerate(names):
        field = meta.pk if name == "pk" else meta.get_field(name)
        if isinstance(field, models.JSONField):
            json_columns.append((i, field))
    sql, params = rows.query.sql_with_params()
    db = connections[queryset.db]
    with db.cursor() as cursor:
        _timestamps_in_c(cursor.cursor, db)
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if not json_columns:
        return fetched
    for n, row in enumerate(fetched):
        row = list(row)
        for i, field in json_columns:
            row[i] = _json_value(row[i], field)
        fetched[n] = tuple(row)
    return fetched


TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
_TIMESTAMPTZ_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


def _timestamps_in_c(cursor, db) -> None:
    """Django reads ``timestamptz`` through a Python loader that sets its time zone on every
    value; with the session in UTC, psycopg's own (C) loader already gives those datetimes
    (``tzinfo`` ``datetime.UTC``), at a fraction of the cost for a batch's thousands."""
    if db.timezone is dt.UTC and cursor.connection.pgconn.parameter_status(b"TimeZone") == b"UTC":
        cursor.adapters.register_loader(TIMESTAMPTZ_OID, _TIMESTAMPTZ_LOADER)


def _json_value(text: str | None, field: models.JSONField) -> Any:
    """A JSON column's text as its field would give it (``from_db_value``), parsed by orjson."""
    if text is None or field.decoder is not None or type(text) is not str:
        return field.from_db_value(text, None, connection)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # an integer beyond 64 bits, say
        return field.from_db_value(text, None, connection)


def new(model: type[models.Model], /, **values: Any) -> models.Model:
    """An unsaved instance of ``model`` for :func:`insert`, built without ``Model.__init__``.

    ``__init__`` walks every field and sends ``pre_init``/``post_init`` for each row: for the
    engine's history and activity rows that costs more than writing them. Here the fields'
    defaults are copied (callables called, as ``__init__`` would) and ``values`` set on top;
    they are given by attribute name (``prospect_id``, not ``prospect``).
    """
    static, made, names = _DEFAULTS.get(model) or _defaults(model)
    unknown = values.keys() - names
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    obj = model.__new__(model)
    state = obj.__dict__
    state["_state"] = ModelState()
    state.update(static)
    for attname, default in made:
        if attname not in values:
            state[attname] = default()
    state.update(values)
    return obj


_DEFAULTS: dict[type, tuple[dict, list[tuple[str, Callable]], frozenset]] = {}


def _defaults(model: type[models.Model]) -> tuple[dict, list[tuple[str, Callable]], frozenset]:
    static, made = {}, []
    for f in model._meta.concrete_fields:
        if f.default is not NOT_PROVIDED and callable(f.default):
            made.append((f.attname, f.default))
        else:
            static[f.attname] = f.get_default()
    plan = (static, made, frozenset(f.attname for f in model._meta.concrete_fields))
    _DEFAULTS[model] = plan
    return plan


# On PostgreSQL also: aware datetimes and UUIDs (psycopg adapts them itself).
_AS_IS_POSTGRESQL = (
    ((models.DateTimeField,), frozenset({dt.datetime, type(None)})),
    ((models.UUIDField,), frozenset({uuid.UUID, type(None)})),
)


def _prepared(objs: Sequence[models.Model], fields: list[models.Field]) -> list[list]:
    """Each object's values as Django would write them (``get_db_prep_save``), skipping the
    call where it changes nothing: text, integers, booleans and nulls of plain fields; on
    PostgreSQL aware datetimes and UUIDs too (a naive datetime goes through Django, which
    makes it aware)."""
    db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every value
    copying = db.vendor == "postgresql"  # every caller on PostgreSQL sends the rows by COPY
    plans = [(f, f.attname, _as_is(f, db.vendor), copying and _plain_json(f)) for f in fields]
    rows = []
    for obj in objs:
        row = []
        loaded = (
            obj.__dict__
        )  # a field's value, without its descriptor (a foreign key's id has one)
        for f, attname, as_is, json_text in plans:
            value = loaded[attname] if attname in loaded else getattr(obj, attname)
            kind = type(value)
            if kind in as_is and (kind is not dt.datetime or value.tzinfo is not None):
                row.append(value)
            elif json_text and kind in _JSON_TYPES:
                # COPY reads a jsonb column's text: the JSON itself, without psycopg's wrapper.
                row.append("{}" if kind is dict and not value else _json_text(value, f, db))
            else:
                row.append(f.get_db_prep_save(value, db))
        rows.append(row)
    return rows


_JSON_TYPES = frozenset({dict, list, str, int, float, bool})


def _plain_json(field: models.Field) -> bool:
    """A JSONField that Django would write as ``json.dumps`` of its value."""
    return isinstance(field, models.JSONField) and field.encoder is None


def _json_text(value: Any, field: models.Field, db) -> Any:
    """A JSON field's value as ``jsonb`` text for ``COPY``: orjson, ~10× faster than the
    ``json.dumps`` Django uses, same document. What orjson refuses (an integer beyond 64 bits)
    goes Django's way."""
    if value is None:
        return None  # SQL NULL, as get_db_prep_save makes it
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return field.get_db_prep_save(value, db)


def _as_is(field: models.Field, vendor: str) -> frozenset:
    kinds = _AS_IS + (_AS_IS_POSTGRESQL if vendor == "postgresql" else ())
    for classes, types in kinds:
        if isinstance(field, classes):
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


def create(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """``bulk_create`` for rows whose ids the caller needs: on PostgreSQL the ids are taken
    from the table's sequence in one query, set on the objects, and the rows go by ``COPY``.
    ``auto_now``/``auto_now_add`` fields are stamped as ``save`` would."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    stamped = [
        f
        for f in meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        for f in stamped:
            f.pre_save(obj, True)
        obj._state.adding = False
        obj._state.db = connection.alias
    fields = list(meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
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
        # The ids again as an array: the planner, knowing nothing of the staging table, would
        # otherwise join it to the whole table (a scan of every row, for each batch); with them
        # it reads just these rows by primary key, however large the table.
        ids, array = any_array([obj.pk for obj in objs])
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {staging} AS s "
            f"WHERE t.{pk} = s.{pk} AND t.{pk} = {ids}",
            [array],
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


def upsert_rows(
    model: type[models.Model], names: list[str], rows: Sequence[Sequence], *, unique: str
) -> None:
    """:func:`upsert` for plain value rows, in the order of ``names`` (attribute names, the
    ``unique`` one among them): no model instance is built. The values must be what the
    columns take as they are — text, numbers, ``Decimal``, dates, aware datetimes, None."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [new(model, **dict(zip(names, row, strict=True))) for row in rows],
            batch_size=500,
            update_conflicts=True,
            unique_fields=[unique],
            update_fields=[n for n in names if n != unique],
        )
        return
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.get_field(n).column for n in names]  # by attname too: "prospect_id"
    quoted = ", ".join(quote(c) for c in columns)
    key = quote(meta.get_field(unique).column)
    assignments = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if quote(c) != key)
    table = quote(meta.db_table)
    staging = quote(f"upsert_{meta.db_table}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {staging} "
            f"ON CONFLICT ({key}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f"DROP TABLE {staging}")

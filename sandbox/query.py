"""SOQL evaluation against ``Record`` rows, with Salesforce's query paging.

1. Resolve the parsed query against the caller's view of the schema (FLS hides fields; sharing
   hides records); unknown names get INVALID_TYPE / INVALID_FIELD in Salesforce's wording.
2. Push what the indexed columns can answer (Id, Email, the external id, OwnerId, IsDeleted,
   SystemModstamp) into SQL; evaluate the rest in Python.
3. When SQL answers the whole filter and the order is by Id or SystemModstamp, pages stream with
   keyset pagination (a 100,000-row query never sits in memory); otherwise the matching rows are
   computed once and kept with the cursor. Cursors live in this process for 15 minutes.
"""

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from sandbox import ids
from sandbox.errors import ApiError
from sandbox.models import Record
from sandbox.records import DB, record_url, where_field
from sandbox.schema import Actor, FieldMeta, ObjectMeta
from sandbox.soql import BoolOp, Comparison, DateLiteral, FieldPath, Query, malformed, parse
from sandbox.values import format_datetime, now

DEFAULT_BATCH = 2000
CURSOR_TTL = 15 * 60
STRINGY = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "id",
    "reference",
    "combobox",
}


@dataclass
class Resolved:
    """A field path resolved to relationship hops and a leaf field."""

    path: FieldPath
    chain: list[tuple[FieldMeta, ObjectMeta]]
    leaf: FieldMeta


@dataclass
class Child:
    """A parent-to-child subquery in the select list."""

    name: str
    obj: ObjectMeta
    via: FieldMeta
    query: Query
    fields: list[Resolved]


@dataclass
class Cursor:
    locator: str
    user_id: str
    obj: ObjectMeta
    select: list
    version: str
    total: int
    batch: int
    position: int = 0
    rows: list[dict] | None = None
    stream: QuerySet | None = None
    order_key: str = "id"
    descending: bool = False
    last_key: tuple | None = None
    remaining: int | None = None
    expires: float = field(default_factory=lambda: time.monotonic() + CURSOR_TTL)


_cursors: dict[str, Cursor] = {}
_cursor_lock = threading.Lock()


# -- resolution ------------------------------------------------------------------------------


def resolve_object(actor: Actor, query: Query) -> ObjectMeta:
    obj = actor.schema.sobject(query.sobject)
    if obj is None or not actor.object_perm(obj)[0]:
        raise malformed(
            query.text,
            query.sobject_column,
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please reference "
            "your WSDL or the describe call for the appropriate names.",
            "INVALID_TYPE",
        )
    return obj


def resolve_path(actor: Actor, obj: ObjectMeta, path: FieldPath, text: str) -> Resolved:
    chain, current = [], obj
    for part in path.parts[:-1]:
        rel = current.relationships.get(part.lower())
        if rel is None or not actor.can_read_field(current, rel):
            raise malformed(
                text,
                path.column,
                f"Didn't understand relationship '{part}' in field path. If you are attempting to "
                "use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
                "INVALID_FIELD",
            )
        target_name = "User" if "User" in rel.reference_to else rel.reference_to[0]
        current = actor.schema.sobject(target_name)
        chain.append((rel, current))
    leaf = actor.visible_field(current, path.parts[-1])
    if leaf is None:
        raise malformed(
            text,
            path.column,
            f"No such column '{path.parts[-1]}' on entity '{current.name}'. If you are attempting "
            "to use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
            "INVALID_FIELD",
        )
    return Resolved(path, chain, leaf)


def child_relationships(actor: Actor, obj: ObjectMeta) -> dict[str, tuple[ObjectMeta, FieldMeta]]:
    """Child relationship name → (child object, lookup field), e.g. Contacts → Contact.AccountId."""
    out = {}
    for child in actor.schema.objects.values():
        for fmeta in child.fields.values():
            if fmeta.type != "reference" or obj.name not in fmeta.reference_to:
                continue
            if fmeta.name in ("CreatedById", "LastModifiedById", "OwnerId", "MasterRecordId"):
                continue
            out[child_relationship_name(child, fmeta).lower()] = (child, fmeta)
    return out


def child_relationship_name(child: ObjectMeta, fmeta: FieldMeta) -> str:
    if fmeta.custom:
        return (
            child.name.removesuffix("__c") + "s__r"
            if child.custom
            else fmeta.name.removesuffix("__c") + "s__r"
        )
    return child.label_plural.replace(" ", "")


def resolve_select(actor: Actor, obj: ObjectMeta, query: Query) -> list:
    out = []
    for item in query.fields:
        if isinstance(item, FieldPath):
            out.append(resolve_path(actor, obj, item, query.text))
        elif isinstance(item, Query):
            out.append(_resolve_child(actor, obj, item, query.text))
        elif not query.is_count:
            raise ApiError(
                "MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list.", 400, None
            )
    return out


def _resolve_child(actor: Actor, obj: ObjectMeta, sub: Query, text: str) -> Child:
    found = child_relationships(actor, obj).get(sub.sobject.lower())
    if found is None:
        raise malformed(
            text,
            sub.sobject_column,
            f"Didn't understand relationship '{sub.sobject}' in FROM part of query call. If you "
            "are attempting to use a custom relationship, be sure to append the '__r' after the "
            "custom relationship name. Please reference your WSDL or the describe call for the "
            "appropriate names.",
            "INVALID_TYPE",
        )
    child, via = found
    sub.text = text
    fields = [resolve_path(actor, child, f, text) for f in sub.fields if isinstance(f, FieldPath)]
    return Child(sub.sobject, child, via, sub, fields)


# -- values and predicates -------------------------------------------------------------------


def date_range(literal: DateLiteral, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a SOQL date literal, in UTC days."""
    n = literal.n or 0
    name = literal.name
    day = dt.timedelta(days=1)
    week_start = today - dt.timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    fixed = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week_start, week_start + 7 * day),
        "LAST_WEEK": (week_start - 7 * day, week_start),
        "NEXT_WEEK": (week_start + 7 * day, week_start + 14 * day),
        "THIS_MONTH": (month_start, _add_months(month_start, 1)),
        "LAST_MONTH": (_add_months(month_start, -1), month_start),
        "NEXT_MONTH": (_add_months(month_start, 1), _add_months(month_start, 2)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_QUARTER": (quarter_start, _add_months(quarter_start, 3)),
        "LAST_QUARTER": (_add_months(quarter_start, -3), quarter_start),
        "NEXT_QUARTER": (_add_months(quarter_start, 3), _add_months(quarter_start, 6)),
        "THIS_YEAR": (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "LAST_YEAR": (dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)),
        "NEXT_YEAR": (dt.date(today.year + 1, 1, 1), dt.date(today.year + 2, 1, 1)),
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week_start - 7 * n * day, week_start),
        "NEXT_N_WEEKS": (week_start + 7 * day, week_start + 7 * (n + 1) * day),
        "N_WEEKS_AGO": (week_start - 7 * n * day, week_start - 7 * (n - 1) * day),
        "LAST_N_MONTHS": (_add_months(month_start, -n), month_start),
        "NEXT_N_MONTHS": (_add_months(month_start, 1), _add_months(month_start, n + 1)),
        "N_MONTHS_AGO": (_add_months(month_start, -n), _add_months(month_start, 1 - n)),
        "LAST_N_YEARS": (dt.date(today.year - n, 1, 1), dt.date(today.year, 1, 1)),
        "NEXT_N_YEARS": (dt.date(today.year + 1, 1, 1), dt.date(today.year + n + 1, 1, 1)),
        "N_YEARS_AGO": (dt.date(today.year - n, 1, 1), dt.date(today.year - n + 1, 1, 1)),
    }
    return fixed[name]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _bound(fmeta: FieldMeta, day: dt.date) -> str:
    if fmeta.type == "datetime":
        return format_datetime(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    return day.isoformat()


def normalize_literal(fmeta: FieldMeta, value: object, text: str, path: FieldPath) -> object:
    """A literal in the stored form of the field it is compared with."""
    if value is None or isinstance(value, DateLiteral | list | Query):
        return value
    if fmeta.type == "datetime":
        if isinstance(value, dt.datetime):
            return format_datetime(value)
        raise malformed(
            text,
            path.column,
            f"value of filter criterion for field "
            f"'{fmeta.name}' must be of type dateTime and should not be enclosed in "
            "quotes",
            "INVALID_FIELD",
        )
    if fmeta.type == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        raise malformed(
            text,
            path.column,
            f"value of filter criterion for field "
            f"'{fmeta.name}' must be of type date and should not be enclosed in "
            "quotes",
            "INVALID_FIELD",
        )
    if fmeta.type in ("id", "reference") and isinstance(value, str):
        normalized = ids.normalize(value)
        if normalized is None and fmeta.type == "id":
            raise ApiError(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"\n{text}\n\nERROR at Row:1:Column:{path.column}\ninvalid ID field: {value}",
                400,
                None,
            )
        return (normalized or value).lower()
    if fmeta.type in STRINGY and isinstance(value, str):
        return value.lower()
    return value


def _fold(fmeta: FieldMeta, value: object) -> object:
    if isinstance(value, str) and fmeta.type in STRINGY:
        return value.lower()
    return value


def _like(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _compare(op: str, value: object, literal: object) -> bool:
    if op == "=":
        return value == literal
    if op == "!=":
        return value != literal
    if value is None or literal is None:
        return False
    try:
        return {
            "<": value < literal,
            ">": value > literal,
            "<=": value <= literal,
            ">=": value >= literal,
        }[op]
    except TypeError:
        return False


def _date_test(fmeta: FieldMeta, op: str, value: object, literal: DateLiteral) -> bool:
    start, end = date_range(literal, now().date())
    low, high = _bound(fmeta, start), _bound(fmeta, end)
    if value is None:
        return op == "!="
    inside = low <= value < high
    return {
        "=": inside,
        "!=": not inside,
        "<": value < low,
        "<=": value < high,
        ">": value >= high,
        ">=": value >= low,
    }.get(op, False)


class Evaluator:
    """Compiles a WHERE tree into a Python predicate over a row's field values."""

    def __init__(self, actor: Actor, obj: ObjectMeta, text: str, all_rows: bool):
        self.actor, self.obj, self.text, self.all_rows = actor, obj, text, all_rows
        self.paths: list[Resolved] = []

    def compile(self, node) -> Callable:
        if isinstance(node, BoolOp):
            parts = [self.compile(item) for item in node.items]
            if node.op == "and":
                return lambda get: all(p(get) for p in parts)
            if node.op == "or":
                return lambda get: any(p(get) for p in parts)
            return lambda get: not parts[0](get)
        return self._comparison(node)

    def _comparison(self, node: Comparison) -> Callable:
        resolved = resolve_path(self.actor, self.obj, node.path, self.text)
        self.paths.append(resolved)
        fmeta, op = resolved.leaf, node.op
        literal = node.value
        if isinstance(literal, Query):
            literal = self._semi_join(literal)
        elif isinstance(literal, list):
            literal = {normalize_literal(fmeta, v, self.text, node.path) for v in literal}
        else:
            literal = normalize_literal(fmeta, literal, self.text, node.path)
        return self._test(resolved, fmeta, op, literal)

    def _test(self, resolved: Resolved, fmeta: FieldMeta, op: str, literal) -> Callable:
        def value_of(get):
            return _fold(fmeta, get(resolved))

        if isinstance(literal, DateLiteral):
            return lambda get: _date_test(fmeta, op, value_of(get), literal)
        if op == "like":
            pattern = _like(str(literal))
            return lambda get: (v := get(resolved)) is not None and bool(pattern.fullmatch(str(v)))
        if op in ("in", "not_in"):
            inside = op == "in"
            return lambda get: (value_of(get) in literal) == inside
        if op in ("includes", "excludes"):
            wanted = [set(str(v).split(";")) for v in literal]

            def test(get):
                chosen = set(str(value_of(get) or "").split(";")) - {""}
                hit = any(w <= chosen for w in wanted)
                return hit if op == "includes" else not hit

            return test
        return lambda get: _compare(op, value_of(get), literal)

    def _semi_join(self, sub: Query) -> set:
        sub.text = self.text
        rows = run_rows(self.actor, sub, all_rows=False)
        key = sub.fields[0].parts[-1] if isinstance(sub.fields[0], FieldPath) else "Id"
        return {_fold_any(row.get(key)) for row in rows}


def _fold_any(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


# -- SQL pushdown ----------------------------------------------------------------------------


def _conjuncts(node) -> list:
    if node is None:
        return []
    if isinstance(node, BoolOp) and node.op == "and":
        return [part for item in node.items for part in _conjuncts(item)]
    return [node]


def _pushdown(actor: Actor, obj: ObjectMeta, node, text: str) -> tuple[Q | None, bool]:
    """(SQL filter, fully answered) for one top-level conjunct."""
    if not isinstance(node, Comparison) or len(node.path.parts) != 1:
        return None, False
    fmeta = actor.visible_field(obj, node.path.parts[0])
    if fmeta is None or isinstance(node.value, DateLiteral | Query):
        return None, False
    column = _column_for(obj, fmeta)
    if column is None:
        return None, False
    values = node.value if isinstance(node.value, list) else [node.value]
    folded = [_column_value(fmeta, column, v, text, node.path) for v in values]
    if None in folded and column != "is_deleted":
        return None, False
    return _column_q(column, node.op, folded)


def _column_for(obj: ObjectMeta, fmeta: FieldMeta) -> str | None:
    if fmeta.name == "Id":
        return "id"
    if fmeta.name == obj.email_field:
        return "email"
    if fmeta.name == obj.indexed_ext_field:
        return "ext_id"
    return {
        "OwnerId": "owner_id",
        "IsDeleted": "is_deleted",
        "SystemModstamp": "system_modstamp",
    }.get(fmeta.name)


def _column_value(
    fmeta: FieldMeta, column: str, value: object, text: str, path: FieldPath
) -> object:
    if column == "system_modstamp":
        return (
            value if isinstance(value, dt.datetime) else normalize_literal(fmeta, value, text, path)
        )
    if column == "is_deleted":
        return value if isinstance(value, bool) else None
    if column in ("id", "owner_id"):
        return ids.normalize(value) if isinstance(value, str) else None
    return value.lower() if isinstance(value, str) else None


def _column_q(column: str, op: str, values: list) -> tuple[Q | None, bool]:
    lookups = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte"}
    if op in lookups and len(values) == 1:
        exact = column not in ("id", "owner_id", "email", "ext_id") or op == "="
        return Q(**{f"{column}__{lookups[op]}": values[0]}), exact
    if op == "in":
        return Q(**{f"{column}__in": values}), True
    if op in ("!=", "not_in") and column in ("id", "is_deleted"):
        return ~Q(**{f"{column}__in": values}), True
    return None, False


# -- running ---------------------------------------------------------------------------------


@dataclass
class Prepared:
    obj: ObjectMeta
    select: list
    queryset: QuerySet
    predicate: Callable | None
    evaluator: Evaluator
    query: Query


def prepare(actor: Actor, query: Query, *, all_rows: bool) -> Prepared:
    obj = resolve_object(actor, query)
    select = resolve_select(actor, obj, query)
    queryset = Record.objects.using(DB).filter(org_id=actor.org.pk, sobject=obj.name)
    if not all_rows:
        queryset = queryset.filter(is_deleted=False)
    if not actor.sees_all(obj):
        queryset = queryset.filter(owner_id__in=actor.visible_owner_ids())
    evaluator = Evaluator(actor, obj, query.text, all_rows)
    residual = []
    for node in _conjuncts(query.where):
        sql, exact = _pushdown(actor, obj, node, query.text)
        if sql is not None:
            queryset = queryset.filter(sql)
        if not exact:
            residual.append(node)
    predicate = evaluator.compile(query.where) if residual else None
    for item in query.order:
        resolve_path(actor, obj, item.path, query.text)
    return Prepared(obj, select, queryset, predicate, evaluator, query)


def stream_order(actor: Actor, prepared: Prepared) -> tuple[str, bool] | None:
    """The (column, descending) to stream a prepared query by keyset, or None when it must be
    run in memory (a filter SQL cannot express, OFFSET, or an ORDER BY other than Id or
    SystemModstamp[, Id])."""
    order = prepared.query.order
    if prepared.predicate is not None or prepared.query.offset:
        return None
    if not order:
        return ("id", False)
    if len(order) > 2:
        return None
    first = resolve_path(actor, prepared.obj, order[0].path, prepared.query.text)
    column = {"Id": "id", "SystemModstamp": "system_modstamp"}.get(first.leaf.name)
    if first.chain or column is None:
        return None
    if len(order) == 2:
        second = resolve_path(actor, prepared.obj, order[1].path, prepared.query.text)
        if second.leaf.name != "Id" or order[1].descending != order[0].descending:
            return None
    return (column, order[0].descending)


class ParentCache:
    """Parent records' field values, loaded in bulk per relationship hop."""

    def __init__(self, org_id: str):
        self.org_id = org_id
        self.data: dict[str, dict | None] = {}

    def load(self, record_ids: set[str]) -> None:
        missing = [i for i in record_ids if i and i not in self.data]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for record_id, data in (
                Record.objects.using(DB)
                .filter(org_id=self.org_id, pk__in=chunk)
                .values_list("id", "data")
            ):
                self.data[record_id] = data
            for record_id in chunk:
                self.data.setdefault(record_id, None)

    def prime(self, rows: list[dict], paths: list[Resolved]) -> None:
        for resolved in paths:
            layer = rows
            for rel, _target in resolved.chain:
                wanted = {row.get(rel.name) for row in layer if row}
                self.load(wanted)
                layer = [self.data.get(i) for i in wanted if i]

    def follow(self, row: dict, resolved: Resolved) -> dict | None:
        current = row
        for rel, _target in resolved.chain:
            current = self.data.get(current.get(rel.name)) if current else None
        return current

    def get(self, row: dict, resolved: Resolved) -> object:
        target = self.follow(row, resolved)
        return target.get(resolved.leaf.name) if target else None


def run_rows(actor: Actor, query: Query, *, all_rows: bool) -> list[dict]:
    """Every matching row's data, filtered, ordered, offset and limited (in memory)."""
    prepared = prepare(actor, query, all_rows=all_rows)
    rows = list(prepared.queryset.order_by("id").values_list("data", flat=True))
    parents = ParentCache(actor.org.pk)
    order_paths = [resolve_path(actor, prepared.obj, o.path, query.text) for o in query.order]
    parents.prime(rows, prepared.evaluator.paths + order_paths)
    if prepared.predicate is not None:
        rows = [row for row in rows if prepared.predicate(lambda r, row=row: parents.get(row, r))]
    for item, resolved in reversed(list(zip(query.order, order_paths, strict=True))):
        rows = _sort(rows, item, resolved, parents)
    start = query.offset or 0
    end = start + query.limit if query.limit is not None else None
    return rows[start:end]


def _sort(rows: list[dict], item, resolved: Resolved, parents: ParentCache) -> list[dict]:
    nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
    present = [r for r in rows if parents.get(r, resolved) is not None]
    empty = [r for r in rows if parents.get(r, resolved) is None]
    present.sort(key=lambda r: _fold_any(parents.get(r, resolved)), reverse=item.descending)
    return empty + present if nulls_first else present + empty


def start_query(
    actor: Actor, text: str, *, all_rows: bool, version: str, batch: int = DEFAULT_BATCH
) -> dict:
    """Run a query and return its first page."""
    query = parse(text)
    prepared = prepare(actor, query, all_rows=all_rows)
    if query.is_count:
        count = (
            prepared.queryset.count()
            if prepared.predicate is None
            else len(run_rows(actor, query, all_rows=all_rows))
        )
        return {"totalSize": count, "done": True, "records": []}
    cursor = Cursor(
        locator=_locator(),
        user_id=actor.user_id,
        obj=prepared.obj,
        select=prepared.select,
        version=version,
        total=0,
        batch=batch,
    )
    streamed = stream_order(actor, prepared)
    if streamed is not None and not any(isinstance(s, Child) for s in prepared.select):
        cursor.order_key, cursor.descending = streamed
        cursor.stream = prepared.queryset
        count = prepared.queryset.count()
        cursor.total = min(count, query.limit) if query.limit is not None else count
        cursor.remaining = cursor.total
    else:
        cursor.rows = run_rows(actor, query, all_rows=all_rows)
        cursor.total = len(cursor.rows)
    return next_page(actor, cursor)


def _locator() -> str:
    return ids.new_id("01g")[:15]


def continue_query(actor: Actor, locator: str) -> dict:
    """The next page of an earlier query (its ``nextRecordsUrl``)."""
    with _cursor_lock:
        cursor = _cursors.get(locator.split("-")[0])
    if cursor is None or cursor.user_id != actor.user_id or cursor.expires < time.monotonic():
        raise ApiError("INVALID_QUERY_LOCATOR", "invalid query locator", 400, None)
    return next_page(actor, cursor)


def fetch_stream(cursor: Cursor, size: int) -> list[dict]:
    """The next ``size`` rows of a keyset-streamed cursor, after its last key."""
    queryset = cursor.stream
    key, desc = cursor.order_key, cursor.descending
    if cursor.last_key is not None:
        if key == "id":
            queryset = queryset.filter(**{"id__lt" if desc else "id__gt": cursor.last_key[1]})
        else:
            op = "lt" if desc else "gt"
            stamp, last_id = cursor.last_key
            queryset = queryset.filter(
                Q(**{f"system_modstamp__{op}": stamp})
                | Q(system_modstamp=stamp, **{f"id__{op}": last_id})
            )
    ordering = [f"-{key}" if desc else key] + (["-id" if desc else "id"] if key != "id" else [])
    rows = list(queryset.order_by(*ordering).values_list("system_modstamp", "id", "data")[:size])
    if rows:
        cursor.last_key = (rows[-1][0], rows[-1][1])
    return [data for _stamp, _id, data in rows]


def next_page(actor: Actor, cursor: Cursor) -> dict:
    if cursor.rows is not None:
        page = cursor.rows[cursor.position : cursor.position + cursor.batch]
    else:
        page = fetch_stream(cursor, min(cursor.batch, cursor.remaining or 0))
        cursor.remaining = (cursor.remaining or 0) - len(page)
    cursor.position += len(page)
    records = render(actor, cursor.obj, cursor.select, page, cursor.version)
    done = cursor.position >= cursor.total or not page
    body = {"totalSize": cursor.total, "done": done}
    if not done:
        cursor.expires = time.monotonic() + CURSOR_TTL
        with _cursor_lock:
            _expire_cursors()
            _cursors[cursor.locator] = cursor
        body["nextRecordsUrl"] = (
            f"/services/data/v{cursor.version}/query/{cursor.locator}-{cursor.position}"
        )
    else:
        with _cursor_lock:
            _cursors.pop(cursor.locator, None)
    body["records"] = records
    return body


def _expire_cursors() -> None:
    moment = time.monotonic()
    for key in [k for k, c in _cursors.items() if c.expires < moment]:
        del _cursors[key]


def render(actor: Actor, obj: ObjectMeta, select: list, rows: list[dict], version: str) -> list:
    """Rows as query records: ``attributes``, selected fields, nested parents and children."""
    parents = ParentCache(actor.org.pk)
    parents.prime(rows, [s for s in select if isinstance(s, Resolved) and s.chain])
    children = _load_children(actor, select, rows, version)
    out = []
    for row in rows:
        record = {"attributes": {"type": obj.name, "url": record_url(version, obj.name, row["Id"])}}
        for item in select:
            if isinstance(item, Child):
                record[item.name] = children.get((item.name, row["Id"]))
            elif not item.chain:
                record[item.leaf.name] = row.get(item.leaf.name)
            else:
                _nest(record, row, item, parents, version)
        out.append(record)
    return out


def _nest(record: dict, row: dict, item: Resolved, parents: ParentCache, version: str) -> None:
    holder, current = record, row
    for rel, target in item.chain:
        current = parents.data.get(current.get(rel.name)) if current else None
        key = rel.relationship_name
        if current is None:
            holder.setdefault(key, None)
            return
        if holder.get(key) is None:
            holder[key] = {
                "attributes": {
                    "type": target.name,
                    "url": record_url(version, target.name, current["Id"]),
                }
            }
        holder = holder[key]
    holder[item.leaf.name] = current.get(item.leaf.name) if current else None


def _load_children(actor: Actor, select: list, rows: list[dict], version: str) -> dict:
    out = {}
    parent_ids = [row["Id"] for row in rows]
    for item in [s for s in select if isinstance(s, Child)]:
        found: dict[str, list[dict]] = {}
        queryset = where_field(
            Record.objects.using(DB).filter(
                org_id=actor.org.pk, sobject=item.obj.name, is_deleted=False
            ),
            item.via.name,
            "in",
            parent_ids,
        )
        if not actor.sees_all(item.obj):
            queryset = queryset.filter(owner_id__in=actor.visible_owner_ids())
        for data in queryset.order_by("id").values_list("data", flat=True):
            found.setdefault(data.get(item.via.name), []).append(data)
        for parent_id in parent_ids:
            kids = found.get(parent_id)
            out[(item.name, parent_id)] = (
                None
                if not kids
                else {
                    "totalSize": len(kids),
                    "done": True,
                    "records": render(actor, item.obj, item.fields, kids, version),
                }
            )
    return out

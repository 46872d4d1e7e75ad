"""Record reads and writes: every write path (single, collections, composite, bulk) calls
``write_records``, so each rule is applied, and answered, the same way everywhere.

A write runs in two phases: (1) each operation is checked and turned into an unsaved ``Record``
— rules from ``sandbox/rules.py``, then references, duplicate rules and unique fields against
the database and the batch itself; (2) the good ones are inserted and updated in bulk. With
``all_or_none`` a single failure rolls every record back.

Both phases run in one transaction that first locks the external-id and unique values it writes,
so two concurrent upserts of one value serialise as Salesforce's do: the second one updates the
record the first created, while writes of other values (two bulk jobs of different records) run
side by side. On PostgreSQL a lock is a ``ValueLock`` row keyed on a 64-bit hash of (org,
object, value), inserted in key order and deleted before commit; SQLite's IMMEDIATE
transactions serialise writers anyway.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Lookup, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.json import KeyTransform

from sandbox import faults, ids, person, rules
from sandbox.errors import ApiError, not_found
from sandbox.models import OrgUser, Record, ValueLock
from sandbox.schema import Actor, FieldMeta, ObjectMeta
from sandbox.values import format_datetime, now

DB = "sandbox"
ROLLED_BACK = ApiError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
    400,
    [],
)
UPDATE_COLUMNS = [
    "data",
    "owner_id",
    "email",
    "ext_id",
    "is_deleted",
    "system_modstamp",
    "deleted_at",
]


@dataclass
class Op:
    """One record operation: ``create``, ``update``, ``upsert`` or ``delete``."""

    kind: str
    obj: ObjectMeta
    body: dict = field(default_factory=dict)
    record_id: str | None = None
    ext_field: str | None = None
    ext_value: str | None = None
    # The body's non-empty text values by lower-case name, first one kept (see ``_sent``).
    sent: dict[str, str] | None = field(default=None, repr=False, compare=False)


@dataclass
class Result:
    """The outcome of one ``Op``: an id (and whether it was created) or an error."""

    id: str | None = None
    created: bool = False
    error: ApiError | None = None
    matches: list[str] = field(default_factory=list)

    def as_dict(self, *, with_created: bool = False) -> dict:
        if self.error:
            return {"success": False, "errors": [self.error.as_result()]}
        body = {"id": self.id, "success": True, "errors": []}
        if with_created:
            body["created"] = self.created
        return body


@dataclass
class Batch:
    """What a batch has already claimed: unique values and duplicate-rule keys."""

    claimed: dict[tuple, str] = field(default_factory=dict)
    allow_duplicates: bool = False
    # Existing holders of indexed values, fetched once per batch: (object, column) → value → ids.
    holders: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    # Lookup targets fetched once per batch: id → {sobject, owner_id, is_deleted} (or None).
    targets: dict[str, dict | None] = field(default_factory=dict)
    # Records a staged write drags along (a person account's Contact): (record, created).
    companions: list[tuple[Record, bool]] = field(default_factory=list)
    # Records the batch updates or deletes, fetched in one query: id → Record (None: absent).
    records: dict[str, Record | None] = field(default_factory=dict)
    # Account record type id → is a person type, loaded on first use.
    record_types: dict[str, bool] | None = None
    # Campaign id → the leads and contacts already its members, loaded once.
    members: dict[str, set[str]] = field(default_factory=dict)
    # Campaign id → its member statuses (label → (is default, has responded)), loaded once.
    member_statuses: dict[str, dict[str, tuple[bool, bool]]] = field(default_factory=dict)

    def account_record_types(self, org_id: str) -> dict[str, bool]:
        if self.record_types is None:
            self.record_types = person.record_types(org_id)
        return self.record_types


class AnyOf(Lookup):
    """``column = ANY(…)`` (PostgreSQL), the text values sent as one JSON array: ``__in`` makes a
    parameter of each value, which Django compiles and psycopg quotes into the SQL one by one —
    a tenth of a bulk job's CPU for its 2,000-value look-ups of ids, emails and external ids (a
    Python list is quoted element by element too). The array is built once, so the planner still
    answers with an index scan on the column."""

    lookup_name = "any"
    prepare_rhs = False  # the values are the column's own (text), not one value to convert

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return (
            f"{lhs} = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))",
            (*params, json.dumps(list(self.rhs))),
        )


for _column in ("id", "email", "ext_id"):
    Record._meta.get_field(_column).register_lookup(AnyOf)


def one_of(column: str) -> str:
    """The lookup "``column`` is one of these values": ``any`` on PostgreSQL, else ``in``."""
    return f"{column}__any" if connections[DB].vendor == "postgresql" else f"{column}__in"


def where_field(queryset: QuerySet, name: str, lookup: str, value: object) -> QuerySet:
    """Filter on one JSON field value (names like ``pi__x__c`` contain Django's ``__``)."""
    alias = f"f_{name.lower()}"
    return queryset.annotate(**{alias: KeyTransform(name, "data")}).filter(
        **{f"{alias}__{lookup}": value}
    )


# -- reading ---------------------------------------------------------------------------------


def record_url(version: str, obj_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{obj_name}/{record_id}"


def serialize(
    actor: Actor,
    obj: ObjectMeta,
    data: dict,
    version: str,
    fields: Iterable[FieldMeta] | None = None,
) -> dict:
    """A record as REST returns it: ``attributes`` then each readable field (null when empty)."""
    out = {"attributes": {"type": obj.name, "url": record_url(version, obj.name, data["Id"])}}
    for fmeta in fields if fields is not None else actor.readable_fields(obj):
        out[fmeta.name] = data.get(fmeta.name)
    return out


def fetch(
    actor: Actor,
    obj: ObjectMeta,
    record_id: str,
    *,
    for_write: bool = False,
    batch: "Batch | None" = None,
) -> Record:
    """A live record the actor may see (and, ``for_write``, edit), or the matching error.

    With a ``batch``, a record it prefetched is used instead of a query of its own."""
    normalized = ids.normalize(record_id)
    if normalized is None or normalized[:3] != obj.key_prefix:
        if for_write:
            raise ApiError(
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {record_id}",
                400,
                ["Id"],
            )
        raise not_found()
    if batch is not None and normalized in batch.records:
        record = batch.records[normalized]
    else:
        record = Record.objects.using(DB).filter(pk=normalized, org_id=actor.org.pk).first()
    if record is None:
        raise (
            not_found()
            if not for_write
            else ApiError("NOT_FOUND", "The requested resource does not exist", 404, None)
        )
    if record.is_deleted:
        raise ApiError("ENTITY_IS_DELETED", "entity is deleted", 404, [])
    if not actor.can_see_record(obj, record.owner_id):
        if for_write:
            raise insufficient_access()
        raise not_found()
    if for_write and not actor.can_edit_record(obj, record.owner_id):
        raise insufficient_access()
    return record


def insufficient_access() -> ApiError:
    return ApiError(
        "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", 400, []
    )


def find_by_field(actor: Actor, obj: ObjectMeta, fmeta: FieldMeta, value: str) -> list[Record]:
    """Live, visible records whose field equals ``value`` (an indexed lookup when possible)."""
    query = Record.objects.using(DB).filter(org_id=actor.org.pk, sobject=obj.name, is_deleted=False)
    if fmeta.name == "Id":
        normalized = ids.normalize(value)
        query = query.filter(pk=normalized or "")
    elif fmeta.name == obj.indexed_ext_field:
        query = query.filter(ext_id=value.lower())
    elif fmeta.name == obj.email_field:
        query = query.filter(email=value.lower())
    else:
        query = where_field(query, fmeta.name, "iexact", value)
    return [r for r in query[:50] if actor.can_see_record(obj, r.owner_id)]


# -- writing ---------------------------------------------------------------------------------


def write_records(
    actor: Actor,
    ops: list[Op],
    *,
    all_or_none: bool = False,
    allow_duplicates: bool = False,
    others_failed: bool = False,
) -> list[Result]:
    """Apply operations in order; see the module docstring for the two phases."""
    with transaction.atomic(using=DB):
        keys = _lock_values(actor, ops)
        results = _write(actor, ops, all_or_none, allow_duplicates, others_failed)
        _unlock_values(keys)
        return results


def _write(
    actor: Actor, ops: list[Op], all_or_none: bool, allow_duplicates: bool, others_failed: bool
) -> list[Result]:
    batch = Batch(allow_duplicates=allow_duplicates)
    if len(ops) > 1:
        _prefetch_holders(actor, ops, batch)
    results: list[Result] = []
    staged: list[tuple[Record, bool]] = []
    for op in ops:
        mark = len(batch.companions)
        try:
            record, created = _stage(actor, op, batch)
        except ApiError as error:
            del batch.companions[mark:]
            results.append(Result(error=error, matches=error.extra.pop("_matches", [])))
            continue
        staged.append((record, created))
        results.append(Result(id=record.pk, created=created))
    if all_or_none and (others_failed or any(r.error for r in results)):
        return [r if r.error else Result(error=ROLLED_BACK) for r in results]
    _commit(staged + batch.companions)
    return results


def _lock_values(actor: Actor, ops: list[Op]) -> list[int]:
    """Lock the upserted external ids and written unique values until the transaction ends.

    One ``ValueLock`` row per value: a writer of the same value waits on the row until this
    transaction ends (an uncommitted insert blocks the same key even once deleted). Keys go in
    ascending order, so two writers never wait on each other in a cycle; a key this
    transaction already holds (a Composite call's earlier subrequest) is simply kept.
    """
    if connections[DB].vendor != "postgresql":
        return []
    keys = set()
    for op in ops:
        values = [op.ext_value] if op.kind == "upsert" and op.ext_value else []
        if op.kind != "delete" and isinstance(op.body, dict):
            values += [_sent(op, f.name) for f in op.obj.unique_fields]
        for value in values:
            if value:
                key = f"{actor.org.pk}|{op.obj.name}|{str(value).lower()}".encode()
                keys.add(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), signed=True))
    if not keys:
        return []
    ordered = sorted(keys)
    with connections[DB].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ValueLock._meta.db_table} (key) SELECT k::bigint "
            "FROM json_array_elements_text(%s::json) WITH ORDINALITY AS t(k, n) ORDER BY n "
            "ON CONFLICT DO NOTHING",
            [json.dumps(ordered)],  # one text: a list is quoted element by element
        )
    return ordered


def _unlock_values(keys: list[int]) -> None:
    """Delete the lock rows before commit: the table stays empty, and a writer waiting on one
    of them goes on once this transaction ends."""
    if keys:
        with connections[DB].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {ValueLock._meta.db_table} WHERE key = "
                "ANY(ARRAY(SELECT json_array_elements_text(%s::json)::bigint))",
                [json.dumps(keys)],
            )


def _sent(op: Op, name: str) -> str | None:
    """The first non-empty text the operation's body sends for ``name`` (any case), lower-cased.

    The body is read once per operation (``Op.sent``): the lock, the holders' prefetch and the
    person-account check each ask for a few names."""
    if op.sent is None:
        op.sent = {}
        for key, value in op.body.items():
            if isinstance(value, str) and value:
                op.sent.setdefault(key.lower(), value)
    value = op.sent.get(name.lower())
    return value.lower() if value is not None else None


def _prefetch_holders(actor: Actor, ops: list[Op], batch: Batch) -> None:
    """One query per object and indexed column (Email, external id) for the whole batch."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for op in ops:
        if op.kind == "delete" or not isinstance(op.body, dict):
            continue
        for column, name in (("email", op.obj.email_field), ("ext_id", op.obj.indexed_ext_field)):
            value = _sent(op, name) if name else None
            if column == "ext_id" and op.kind == "upsert" and op.ext_field == name:
                value = (op.ext_value or "").lower() or value
            if value:
                wanted.setdefault((op.obj.name, column), set()).add(value)
        if person.enabled(op.obj):
            _want_person_contact_ext(actor, op, wanted)
    _prefetch_targets(actor, ops, batch)
    for (obj_name, column), values in wanted.items():
        found: dict[str, list[str]] = {value: [] for value in values}
        rows = Record.objects.using(DB).filter(
            org_id=actor.org.pk, sobject=obj_name, is_deleted=False, **{one_of(column): values}
        )
        for record_id, value in rows.values_list("id", column):
            found.setdefault(value, []).append(record_id)
        batch.holders[(obj_name, column)] = found
    _prefetch_records(actor, ops, batch)


def _want_person_contact_ext(actor: Actor, op: Op, wanted: dict) -> None:
    """A person account's ``X__pc`` external id is its Contact's ``X__c``: check both at once."""
    contact = actor.schema.sobject("Contact")
    name = contact.indexed_ext_field if contact else None
    if not name:
        return
    mirrored = name.removesuffix("__c") + "__pc"
    value = op.ext_value if op.kind == "upsert" and op.ext_field == mirrored else None
    value = (value or "").lower() or _sent(op, mirrored)
    if value:
        wanted.setdefault(("Contact", "ext_id"), set()).add(value)


def _prefetch_records(actor: Actor, ops: list[Op], batch: Batch) -> None:
    """The records the batch updates, deletes or upserts onto (and person Contacts): 2 queries."""
    wanted = set()
    for op in ops:
        if op.kind in ("update", "delete") or (op.kind == "upsert" and op.ext_field == "Id"):
            record_id = ids.normalize(op.record_id if op.kind != "upsert" else op.ext_value)
            if record_id:
                wanted.add(record_id)
        elif op.kind == "upsert" and op.ext_value and op.ext_field == op.obj.indexed_ext_field:
            holders = batch.holders.get((op.obj.name, "ext_id"), {})
            wanted.update(holders.get(op.ext_value.lower(), []))
    _load_records(actor, wanted, batch)
    contacts = {
        r.data.get("PersonContactId")
        for r in batch.records.values()
        if r is not None and r.sobject == "Account" and r.data.get("IsPersonAccount")
    }
    _load_records(actor, {c for c in contacts if c}, batch)


def _load_records(actor: Actor, wanted: set[str], batch: Batch) -> None:
    wanted = sorted(wanted - batch.records.keys())
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found = Record.objects.using(DB).filter(org_id=actor.org.pk, **{one_of("id"): chunk})
        for values in found.values_list(*_COLUMNS):
            record = _bare_record(dict(zip(_COLUMNS, values, strict=True)), loaded=True)
            batch.records[record.pk] = record
        for record_id in chunk:
            batch.records.setdefault(record_id, None)


def _prefetch_targets(actor: Actor, ops: list[Op], batch: Batch) -> None:
    wanted = set()
    for op in ops:
        if op.kind == "delete" or not isinstance(op.body, dict):
            continue
        for key, value in op.body.items():
            fmeta = op.obj.field(key) if isinstance(key, str) else None
            if fmeta and fmeta.type == "reference" and isinstance(value, str):
                normalized = ids.normalize(value)
                if normalized and not normalized.startswith("005"):
                    wanted.add(normalized)
    if not wanted:
        return
    rows = Record.objects.using(DB).filter(org_id=actor.org.pk, **{one_of("id"): wanted})
    batch.targets = {record_id: None for record_id in wanted}
    for row in rows.values("id", "sobject", "owner_id", "is_deleted"):
        batch.targets[row["id"]] = row


def _commit(staged: list[tuple[Record, bool]]) -> None:
    with transaction.atomic(using=DB):
        new = [record for record, created in staged if created]
        if new:
            _insert_rows(new)
        old = [record for record, created in staged if not created]
        if old:
            _update_rows(old)
        _follow_user_logins([record for record, _ in staged if record.sobject == "User"])


def _follow_user_logins(users: list[Record]) -> None:
    """A User deactivated (or reactivated) through the API can no longer (again) log in."""
    for active in (True, False):
        ids_ = [u.pk for u in users if bool(u.data.get("IsActive")) is active]
        if ids_:
            OrgUser.objects.using(DB).filter(pk__in=ids_).update(is_active=active)


def _insert_rows(records: list[Record]) -> None:
    """INSERT new records: ``COPY`` on PostgreSQL (Django's ``bulk_create`` quotes every value
    into its SQL in Python — a fifth of a bulk job's time), ``bulk_create`` elsewhere."""
    connection = connections[DB]
    if connection.vendor != "postgresql":
        Record.objects.using(DB).bulk_create(records)
        return
    fields = Record._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Record._meta.db_table)
    names = [f.attname for f in fields]
    data = names.index("data")
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for record in records:
            row = [getattr(record, name) for name in names]
            row[data] = json.dumps(record.data)
            copy.write_row(row)


def _update_rows(records: list[Record]) -> None:
    """Write staged changes back: one statement per batch on PostgreSQL, else an UPDATE per
    record sent as a batch (``executemany``).

    Django's ``bulk_update`` builds a CASE expression per column over the whole batch: seconds of
    Python per 2,000 rows, and a quadratic CASE for PostgreSQL to evaluate. On PostgreSQL the
    rows go as one JSON document that ``json_to_recordset`` turns back into typed columns: a
    single ``json.dumps`` of the batch instead of quoting every value into an UPDATE of its own
    (a quarter of a bulk update's CPU). A record staged twice is written once, in its last
    state, as the last of its UPDATEs would have left it.
    """
    connection = connections[DB]
    fields = [Record._meta.get_field(name) for name in UPDATE_COLUMNS]
    table = connection.ops.quote_name(Record._meta.db_table)
    if connection.vendor == "postgresql":
        latest = {record.pk: record for record in records}
        rows = [
            {"id": pk, **{f.attname: _json_column(getattr(r, f.attname)) for f in fields}}
            for pk, r in latest.items()
        ]
        columns = ", ".join(
            f"{connection.ops.quote_name(f.attname)} {f.db_type(connection)}"
            for f in [Record._meta.pk, *fields]
        )
        assignments = ", ".join(
            f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.attname)}"
            for f in fields
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS r SET {assignments} FROM json_to_recordset(%s::json) "
                f"AS v({columns}) WHERE r.id = v.id",
                [json.dumps(rows)],
            )
        return
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    params = [
        [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields] + [record.pk]
        for record in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)


def _json_column(value: object) -> object:
    """A column value inside ``_update_rows``' JSON: datetimes in ISO 8601 (offset and
    microseconds kept), everything else (the JSON data, text, booleans, null) as it is."""
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _stage(actor: Actor, op: Op, batch: Batch) -> tuple[Record, bool]:
    if op.obj.readonly:
        raise insufficient_access()
    if faults.lock_fails(actor.org):
        raise faults.unable_to_lock_row()
    if op.kind == "create":
        return _stage_create(actor, op.obj, op.body, batch), True
    if op.kind == "delete":
        return _stage_delete(actor, op.obj, op.record_id, batch), False
    if op.kind == "update":
        record = fetch(actor, op.obj, op.record_id or "", for_write=True, batch=batch)
        return _stage_update(actor, op.obj, record, op.body, batch), False
    return _stage_upsert(actor, op, batch)


def _stage_upsert(actor: Actor, op: Op, batch: Batch) -> tuple[Record, bool]:
    fmeta = actor.visible_field(op.obj, op.ext_field or "")
    if fmeta is None or not (fmeta.external_id or fmeta.name == "Id"):
        raise ApiError(
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {op.ext_field}",
            404,
            None,
        )
    ext_name = fmeta.name.lower()
    body = {k: v for k, v in op.body.items() if k.lower() != ext_name}
    matches = _upsert_matches(actor, op, fmeta, batch) if op.ext_value else []
    if len(matches) > 1:
        error = ApiError(
            "MULTIPLE_RECORDS",
            "more than one record found for external id field",
            300,
            [fmeta.name],
        )
        error.extra["_matches"] = [m.pk for m in matches]
        raise error
    if matches:
        record = fetch(actor, op.obj, matches[0].pk, for_write=True, batch=batch)
        return _stage_update(actor, op.obj, record, body, batch), False
    if fmeta.name != "Id" and op.ext_value:
        body[fmeta.name] = op.ext_value
    return _stage_create(actor, op.obj, body, batch), True


def _upsert_matches(actor: Actor, op: Op, fmeta: FieldMeta, batch: Batch) -> list[Record]:
    """Records holding the upserted value: from the batch's prefetch when it has them."""
    cached = batch.holders.get((op.obj.name, "ext_id"))
    if fmeta.name != op.obj.indexed_ext_field or cached is None:
        return find_by_field(actor, op.obj, fmeta, op.ext_value or "")
    found = [batch.records.get(i) for i in cached.get((op.ext_value or "").lower(), [])]
    return [r for r in found if r is not None and actor.can_see_record(op.obj, r.owner_id)]


def _stage_delete(actor: Actor, obj: ObjectMeta, record_id: str | None, batch: Batch) -> Record:
    if not actor.object_perm(obj)[3]:
        raise insufficient_access()
    record = fetch(actor, obj, record_id or "", for_write=True, batch=batch)
    person.guard_person_contact(record)
    _mark_deleted(record)
    if record.data.get("PersonContactId") and record.data.get("IsPersonAccount"):
        contact = _person_contact(record.data["PersonContactId"], batch)
        if contact is not None and not contact.is_deleted:
            batch.companions.append((_mark_deleted(contact), False))
    if obj.name == "Campaign":  # its members and member statuses go to the recycle bin too
        children = Record.objects.using(DB).filter(
            org_id=actor.org.pk,
            sobject__in=("CampaignMember", "CampaignMemberStatus"),
            is_deleted=False,
            data__CampaignId=record.pk,
        )
        batch.companions += [(_mark_deleted(child), False) for child in children]
    if obj.name == "Opportunity":  # its contact roles go to the recycle bin too
        roles = Record.objects.using(DB).filter(
            org_id=actor.org.pk,
            sobject="OpportunityContactRole",
            is_deleted=False,
            data__OpportunityId=record.pk,
        )
        batch.companions += [(_mark_deleted(role), False) for role in roles]
    return record


def _mark_deleted(record: Record) -> Record:
    stamp = now()
    record.is_deleted, record.deleted_at, record.system_modstamp = True, stamp, stamp
    record.data = {**record.data, "IsDeleted": True, "SystemModstamp": format_datetime(stamp)}
    return record


def _stage_create(actor: Actor, obj: ObjectMeta, body: dict, batch: Batch) -> Record:
    if not actor.object_perm(obj)[1]:
        raise insufficient_access()
    changes = _changes(actor, obj, body, creating=True)
    stamp = now()
    text = format_datetime(stamp)
    record_id = ids.new_id(obj.key_prefix)
    merged = {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": text,
        "CreatedById": actor.user_id,
        "LastModifiedDate": text,
        "LastModifiedById": actor.user_id,
        "SystemModstamp": text,
    }
    if obj.has_owner:
        merged["OwnerId"] = actor.user_id
    merged.update(changes)
    rules.apply_defaults(obj, merged)
    is_person = person.enabled(obj) and person.prepare_create(
        changes, merged, batch.account_record_types(actor.org.pk)
    )
    _check_merged(actor, obj, merged, set(changes), creating=True, batch=batch)
    if is_person:
        _stage_person_contact(actor, merged, None, batch, stamp)
    if obj.name == "Campaign":
        _stage_default_member_statuses(actor, record_id, batch, stamp)
    return _to_record(obj, _new_record(record_id, actor.org.pk, obj.name), merged, stamp)


def _stage_default_member_statuses(actor: Actor, campaign_id: str, batch: Batch, stamp) -> None:
    """A new campaign comes with Salesforce's two member statuses: Sent (the default) and
    Responded (counted as responded)."""
    status_obj = actor.schema.sobject("CampaignMemberStatus")
    if status_obj is None:
        return
    text = format_datetime(stamp)
    for order, (label, responded) in enumerate((("Sent", False), ("Responded", True)), 1):
        record_id = ids.new_id(status_obj.key_prefix)
        data = {
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": text,
            "CreatedById": actor.user_id,
            "LastModifiedDate": text,
            "LastModifiedById": actor.user_id,
            "SystemModstamp": text,
            "CampaignId": campaign_id,
            "Label": label,
            "IsDefault": not responded,
            "HasResponded": responded,
            "SortOrder": order,
        }
        record = _new_record(record_id, actor.org.pk, status_obj.name)
        batch.companions.append((_to_record(status_obj, record, data, stamp), True))


def _stage_update(
    actor: Actor, obj: ObjectMeta, record: Record, body: dict, batch: Batch
) -> Record:
    if not actor.object_perm(obj)[2]:
        raise insufficient_access()
    if (
        obj.name == "Lead"
        and record.data.get("IsConverted")
        and not actor.profile.edit_converted_leads
    ):
        raise ApiError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", 400, [])
    person.guard_person_contact(record)
    changes = _changes(actor, obj, body, creating=False)
    stamp = now()
    merged = {
        **record.data,
        **changes,
        "LastModifiedDate": format_datetime(stamp),
        "LastModifiedById": actor.user_id,
        "SystemModstamp": format_datetime(stamp),
    }
    is_person = person.enabled(obj) and person.prepare_update(
        record.data, changes, merged, batch.account_record_types(actor.org.pk)
    )
    _check_merged(actor, obj, merged, set(changes), creating=False, batch=batch)
    if is_person:
        _stage_person_contact(actor, merged, set(changes), batch, stamp)
    return _to_record(obj, record, merged, stamp)


def _person_contact(contact_id: str, batch: Batch) -> Record | None:
    if contact_id in batch.records:
        return batch.records[contact_id]
    return Record.objects.using(DB).filter(pk=contact_id).first()


def _stage_person_contact(
    actor: Actor, account: dict, touched: set[str] | None, batch: Batch, stamp
) -> None:
    """Create (``touched`` None) or update a person account's Contact to mirror the account.

    The Contact's own unique fields are checked; its validation and duplicate rules are not
    run (Salesforce applies the Account's rules to a person account).
    """
    contact_obj = actor.schema.sobject("Contact")
    text = format_datetime(stamp)
    values = {
        k: v for k, v in person.contact_values(account, touched).items() if contact_obj.field(k)
    }
    if touched is None:
        record = _new_record(account["PersonContactId"], actor.org.pk, "Contact")
        data = {
            "Id": record.pk,
            "IsDeleted": False,
            "CreatedDate": text,
            "CreatedById": actor.user_id,
            "AccountId": account["Id"],
            "IsPersonAccount": True,
            **values,
        }
        rules.apply_defaults(contact_obj, data)
    else:
        record = _person_contact(account.get("PersonContactId") or "", batch)
        if record is None or not values:
            return
        data = {**record.data, **values}
    data.update(
        {"LastModifiedDate": text, "LastModifiedById": actor.user_id, "SystemModstamp": text}
    )
    rules.derive_fields(contact_obj, data)
    _check_unique(actor, contact_obj, data, set(values), batch)
    batch.companions.append((_to_record(contact_obj, record, data, stamp), touched is None))


def _changes(actor: Actor, obj: ObjectMeta, body: dict, *, creating: bool) -> dict:
    """Field rules on the sent values; returns ``{FieldName: stored value}``."""
    if not isinstance(body, dict):
        raise ApiError(
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of sObject from "
            "START_ARRAY value [ or request may be missing a required field at "
            "[line:1, column:1]",
            400,
            None,
        )
    changes = {}
    from_csv = (
        bool(body.get("attributes", {}).get("_csv"))
        if isinstance(body.get("attributes"), dict)
        else False
    )
    for fmeta, raw in rules.resolve_fields(actor, obj, body, creating=creating):
        value = rules.coerce_value(fmeta, raw, from_csv=from_csv)
        if value is not None:
            if fmeta.type == "reference":
                value = rules.check_reference_format(fmeta, str(value), actor.schema.by_prefix)
            rules.check_value(obj, fmeta, value)
        changes[fmeta.name] = value
    return changes


def _check_merged(
    actor: Actor, obj: ObjectMeta, merged: dict, touched: set[str], *, creating: bool, batch: Batch
) -> None:
    rules.check_required(obj, merged, creating=creating, touched=touched)
    if actor.org.state_country_picklists:
        rules.apply_state_country(obj, merged, touched)
    _check_references(actor, obj, merged, touched, batch)
    if obj.name == "CampaignMember" and creating:
        _check_campaign_member(actor, merged, batch)
    if obj.name == "CampaignMember":
        _apply_member_status(actor, merged, touched, batch, creating=creating)
    rules.derive_fields(obj, merged)
    # Salesforce's order of execution: before triggers, then custom validation rules.
    rules.check_trigger_rules(obj, merged, creating=creating)
    rules.check_validation_rules(obj, merged, creating=creating)
    _check_duplicates(actor, obj, merged, batch)
    _check_unique(actor, obj, merged, touched, batch)


def _check_references(
    actor: Actor, obj: ObjectMeta, merged: dict, touched: set[str], batch: Batch
) -> None:
    for name in touched:
        fmeta = obj.field(name)
        value = merged.get(name)
        if fmeta is None or fmeta.type != "reference" or not value:
            continue
        if value.startswith("005"):
            _check_user_reference(actor, obj, fmeta, value)
            continue
        if value in batch.targets:
            target = batch.targets[value]
        else:
            target = (
                Record.objects.using(DB)
                .filter(pk=value, org_id=actor.org.pk)
                .values("sobject", "owner_id", "is_deleted")
                .first()
            )
        if target is None:
            raise ApiError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", 400, [fmeta.name]
            )
        if target["is_deleted"]:
            raise ApiError("ENTITY_IS_DELETED", "entity is deleted", 400, [fmeta.name])
        target_obj = actor.schema.sobject(target["sobject"])
        visible = (
            actor.can_see_queue(value)
            if target["sobject"] == "Group"
            else actor.can_see_record(target_obj, target["owner_id"])
        )
        if not visible:
            raise ApiError(
                "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                f"insufficient access rights on cross-reference id: {value}",
                400,
                [],
            )


def _check_user_reference(actor: Actor, obj: ObjectMeta, fmeta: FieldMeta, value: str) -> None:
    """A user lookup: the ``User`` record must exist; an owner must be active."""
    if value not in actor.users_seen:
        data = (
            Record.objects.using(DB)
            .filter(pk=value, org_id=actor.org.pk, sobject="User", is_deleted=False)
            .values_list("data", flat=True)
            .first()
        )
        actor.users_seen[value] = None if data is None else bool(data.get("IsActive", True))
    active = actor.users_seen[value]
    if active is None:
        raise ApiError(
            "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", 400, [fmeta.name]
        )
    if not active and fmeta.name == "OwnerId":
        raise ApiError(
            "INACTIVE_OWNER_OR_USER",
            f"operation performed with inactive user [{value}] as owner of {obj.label.lower()}",
            400,
            [],
        )


def _check_campaign_member(actor: Actor, merged: dict, batch: Batch) -> None:
    person = merged.get("ContactId") or merged.get("LeadId")
    if not person:
        raise ApiError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LeadId, ContactId]",
            400,
            ["LeadId", "ContactId"],
        )
    if merged.get("ContactId"):
        merged["LeadId"] = None
    campaign_id = merged["CampaignId"]
    key = ("CampaignMember", campaign_id, person)
    if campaign_id not in batch.members:  # the campaign's people, read once per batch
        rows = Record.objects.using(DB).filter(
            org_id=actor.org.pk, sobject="CampaignMember", is_deleted=False
        )
        rows = rows.filter(data__CampaignId=campaign_id)
        batch.members[campaign_id] = {
            someone
            for lead, contact in rows.values_list("data__LeadId", "data__ContactId")
            for someone in (lead, contact)
            if someone
        }
    if person in batch.members[campaign_id] or key in batch.claimed:
        raise ApiError("DUPLICATE_VALUE", "Already a campaign member.", 400, [])
    batch.claimed[key] = merged["Id"]


def _apply_member_status(
    actor: Actor, merged: dict, touched: set[str], batch: Batch, *, creating: bool
) -> None:
    """A member's Status is one of its campaign's CampaignMemberStatus labels (the campaign's
    default when none is sent); it sets HasResponded, and FirstRespondedDate the first time."""
    campaign_id = merged.get("CampaignId") or ""
    if campaign_id not in batch.member_statuses:
        rows = Record.objects.using(DB).filter(
            org_id=actor.org.pk,
            sobject="CampaignMemberStatus",
            is_deleted=False,
            data__CampaignId=campaign_id,
        )
        batch.member_statuses[campaign_id] = {
            r.data.get("Label"): (bool(r.data.get("IsDefault")), bool(r.data.get("HasResponded")))
            for r in rows
        }
    statuses = batch.member_statuses[campaign_id]
    if not statuses:
        return  # a campaign with no statuses of its own: the org's defaults apply
    if creating and "Status" not in touched:
        merged["Status"] = next((label for label, (d, _) in statuses.items() if d), None)
    status = merged.get("Status")
    if status not in statuses:
        raise ApiError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"Status: bad value for restricted picklist field: {status}",
            400,
            ["Status"],
        )
    merged["HasResponded"] = statuses[status][1]
    if merged["HasResponded"] and not merged.get("FirstRespondedDate"):
        merged["FirstRespondedDate"] = now().date().isoformat()


def _check_duplicates(actor: Actor, obj: ObjectMeta, merged: dict, batch: Batch) -> None:
    for rule in obj.duplicate_rules:
        values = [merged.get(name) for name in rule.match_fields]
        if not values or None in values or "" in values:
            continue
        key = ("dup", rule.pk, *[str(v).lower() for v in values])
        cached = batch.holders.get((obj.name, "email"))
        if (
            rule.match_fields == ["Email"]
            and cached is not None
            and str(values[0]).lower() in cached
        ):
            matches = [i for i in cached[str(values[0]).lower()] if i != merged["Id"]]
        else:
            matches = _duplicate_matches(actor, obj, rule.match_fields, values, merged["Id"])
        if key in batch.claimed and batch.claimed[key] != merged["Id"]:
            matches.append(batch.claimed[key])
        if matches and (rule.action == "block" or not batch.allow_duplicates):
            raise duplicates_detected(obj, rule, matches)
        batch.claimed[key] = merged["Id"]


def _duplicate_matches(
    actor: Actor, obj: ObjectMeta, names: list[str], values: list, own_id: str
) -> list[str]:
    query = (
        Record.objects.using(DB)
        .filter(org_id=actor.org.pk, sobject=obj.name, is_deleted=False)
        .exclude(pk=own_id)
    )
    for name, value in zip(names, values, strict=True):
        if name == obj.email_field:
            query = query.filter(email=str(value).lower())
        else:
            query = where_field(query, name, "iexact", str(value))
    return list(query.values_list("id", flat=True)[:10])


def duplicates_detected(obj: ObjectMeta, rule, matches: list[str]) -> ApiError:
    """DUPLICATES_DETECTED with Salesforce's ``duplicateResult`` payload."""
    records = [
        {
            "additionalInformation": [],
            "fieldDiffs": [],
            "matchConfidence": 100.0,
            "record": {
                "attributes": {"type": obj.name, "url": record_url("59.0", obj.name, match)},
                "Id": match,
            },
        }
        for match in matches
    ]
    result = {
        "allowSave": rule.action == "allow",
        "duplicateRule": rule.name,
        "duplicateRuleEntityType": obj.name,
        "errorMessage": rule.alert_text,
        "matchResults": [
            {
                "entityType": obj.name,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": records,
                "rule": rule.match_rule,
                "size": len(records),
                "success": True,
            }
        ],
    }
    return ApiError("DUPLICATES_DETECTED", rule.alert_text, 400, [], {"duplicateResult": result})


def _check_unique(
    actor: Actor, obj: ObjectMeta, merged: dict, touched: set[str], batch: Batch
) -> None:
    for fmeta in obj.unique_fields:
        value = merged.get(fmeta.name)
        if fmeta.name not in touched or value in (None, ""):
            continue
        key = ("unique", obj.name, fmeta.name, str(value).lower())
        cached = batch.holders.get((obj.name, "ext_id"))
        if (
            fmeta.name == obj.indexed_ext_field
            and cached is not None
            and str(value).lower() in cached
        ):
            holders = [i for i in cached[str(value).lower()] if i != merged["Id"]]
        else:
            holders = [
                r.pk for r in find_by_field(actor, obj, fmeta, str(value)) if r.pk != merged["Id"]
            ]
        if key in batch.claimed and batch.claimed[key] != merged["Id"]:
            holders.append(batch.claimed[key])
        if holders:
            raise ApiError(
                "DUPLICATE_VALUE",
                f"duplicate value found: {fmeta.name} duplicates "
                f"value on record with id: {holders[0][:15]}",
                400,
                [],
            )
        batch.claimed[key] = merged["Id"]


# Every column of a new Record before ``_to_record`` fills it: the fields' defaults (constants).
_BLANK = {f.attname: f.get_default() for f in Record._meta.concrete_fields}
_COLUMNS = list(_BLANK)


def _bare_record(values: dict, *, loaded: bool = False) -> Record:
    """A Record with these column values, as ``Record(...)`` (or, ``loaded``, a queryset) makes
    it but without ``Model.__init__``: that walks every field for its default and sends
    ``pre_init`` and ``post_init`` (no receivers here), a twentieth of a bulk job's CPU."""
    record = Record.__new__(Record)
    record.__dict__.update(values)
    record._state = ModelState()
    if loaded:
        record._state.adding, record._state.db = False, DB
    return record


def _new_record(record_id: str, org_id: str, sobject: str) -> Record:
    """An unsaved record for ``_to_record`` to fill."""
    return _bare_record({**_BLANK, "id": record_id, "org_id": org_id, "sobject": sobject})


def _to_record(obj: ObjectMeta, record: Record, merged: dict, stamp) -> Record:
    """Fill the indexed columns from the merged field values."""
    data = {k: v for k, v in merged.items() if v is not None}
    record.data = data
    record.owner_id = data.get("OwnerId", "")
    record.email = str(data.get(obj.email_field, "")).lower() if obj.email_field else ""
    ext = obj.indexed_ext_field
    record.ext_id = str(data.get(ext, "")).lower() if ext else ""
    record.is_deleted = bool(data.get("IsDeleted"))
    record.system_modstamp = stamp
    return record


def refresh_statistics() -> None:
    """ANALYZE the record table after a bulk load (PostgreSQL).

    Until the planner has statistics for an org's rows it guesses one row per (org, object) and
    may answer an external-id lookup by walking every Lead through another index — milliseconds
    per lookup that made a 20,000-row upsert take minutes. Autovacuum analyzes eventually; a load
    that has just happened should not wait for it.
    """
    if connections[DB].vendor == "postgresql":
        with connections[DB].cursor() as cursor:
            cursor.execute("ANALYZE sandbox_record")

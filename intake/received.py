"""Form handler submissions: checked and stored by the web request, applied by a worker.

A form handler takes posts from the customer's site at whatever rate its visitors (or a
campaign launch) send them. The request does only what the visitor must hear about at once —
the honeypot, the required fields, an email that cannot be an address — and stores the rest
as one ``ReceivedSubmission`` row (the database is the source of truth: a lost wake-up or a
dead worker loses nothing); on SQLite it pushes it to the Redis buffer instead, and the worker
stores it (``intake.buffer`` says why and how nothing is lost). A worker then applies the
waiting rows up to a thousand at a time, waiting GATHER_SECONDS between batches so a stream of
posts makes few write transactions:

1. what the buffer holds is stored, in a transaction of its own;
2. rows are locked (skipping those another worker holds) in one transaction;
3. each is mapped and matched as ``intake.submissions`` says (the visitor cookie, else AMPSEA
   by email, else a new prospect) and written with one ``write_prospects`` call per handler;
4. one activity per submission (its values, the fields nobody mapped), scores and last
   activity in a few statements, one sync request for the lot;
5. each row records its outcome and prospect, then the completion actions run.

A crash part way rolls the batch back; the rows are still waiting and the next run applies
them (matching by email, so nothing is created twice).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import django_rq
import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Field
from django.db.models.functions import Lower
from django.utils import timezone

from intake import buffer, protection
from intake.form_models import FormHandler, FormHandlerField, ReceivedSubmission
from intake.submissions import (
    DETAIL_VALUE_LIMIT,
    FORM_HANDLER,
    MAX_UNKNOWN_NOTED,
    Submission,
    _first,
    map_posted,
    mapping_of,
    run_completion_actions,
)
from intake.writes import WriteOptions, insert_many, update_many, write_prospects
from prospects.activities import record_activities
from prospects.models import Prospect
from prospects.sync_requests import request_sync_many

log = logging.getLogger(__name__)

BATCH = 1000
# On SQLite (make run's database) a batch holds the database's one write lock while it is
# applied, and every form post's INSERT waits for it: smaller batches keep a post's wait short
# (a batch of 150 held it for about 100 ms, the p95 target).
SQLITE_BATCH = 50
WAKE_KEY = "leadbridge:intake:received-wake"
WAKE_SECONDS = 30
# The job waits this long after a batch smaller than BATCH before taking the next, and stops
# only after a wait found nothing: submissions arriving meanwhile make one batch, not one each
# (a batch's fixed cost — the statements of write_prospects and record_activities, the sync
# wake-up — was most of the worker's time at a few rows a batch).
GATHER_SECONDS = 0.2
# A web process that woke the worker less than this long ago does not ask Redis again: a job
# enqueued (or not yet started) at that wake-up applies the rows committed since, because its
# last look comes at least GATHER_SECONDS after it started.
WAKE_AGAIN_SECONDS = GATHER_SECONDS / 2
# A job ends after this long even while posts keep coming: the default queue's other jobs wait
# meanwhile. The next job goes behind them: enqueued by the next post (the job cleared the
# wake-up mark at its start), or by the job itself when its last look still found submissions.
# (The worker, core.worker.Worker, takes its queues in turn, so the sync queue's jobs run
# between them.)
JOB_SECONDS = 5

# slug → (id, updated_at as the database returns it, the handler): see active_handler.
_handlers: dict[str, tuple[int, Any, FormHandler]] = {}
_last_wake = 0.0


def active_handler(slug: str) -> tuple[FormHandler, dict[str, tuple[str, bool]]] | None:
    """The active form handler at ``slug`` and its mapping (``mapping_of``), or None.

    One plain query per request reads the handler's id, its ``updated_at`` and its current
    field mapping; the handler itself is loaded again only when it changed (its editor saves it
    with its mappings, which moves ``updated_at``). The ORM's two queries cost a form post more
    than storing it.
    """
    handlers, fields = FormHandler._meta.db_table, FormHandlerField._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h.id, h.updated_at, f.external_name, f.prospect_field, f.required "
            f"FROM {handlers} h LEFT JOIN {fields} f ON f.handler_id = h.id "
            f"WHERE h.slug = %s AND h.is_active = %s ORDER BY f.id",
            [slug, True],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    pk, updated_at = rows[0][0], rows[0][1]
    cached = _handlers.get(slug)
    if cached is None or cached[:2] != (pk, updated_at):
        handler = FormHandler.objects.filter(pk=pk).first()
        if handler is None:  # deleted since
            return None
        _handlers[slug] = cached = (pk, updated_at, handler)
    mapping = {name: (field, bool(required)) for _, _, name, field, required in rows if name}
    return cached[2], mapping


def receive(
    *,
    handler: FormHandler,
    posted: Mapping[str, list[str]],
    visitor_id: int | None,
    details: Mapping[str, Any] | None = None,
    mapping: dict[str, tuple[str, bool]] | None = None,
) -> Submission:
    """Check a form handler POST and store it for the worker (or push it to the buffer);
    ``spam`` and ``failed`` results store nothing. The submission's key is the result's
    ``prospect_id``-less receipt. ``mapping`` is the handler's (``active_handler`` read it
    already), else read here."""
    if _first(posted.get(handler.honeypot_field)):
        return Submission(outcome="spam")
    if mapping is None:
        mapping = mapping_of(handler)
    row, errors, unknown = map_posted(handler, mapping, posted)
    email_name = next((n for n, (f, _) in mapping.items() if f == "email"), "email")
    email = str(row.get("email") or "").strip()
    if not errors and email:
        try:
            validate_email(email)
        except ValidationError:
            errors[email_name] = "Enter a valid email address."
    if not errors and not email and visitor_id is None:
        errors[email_name] = "An email address is required."
    if errors:
        return Submission(outcome="failed", errors=errors, unknown=unknown)
    item = ReceivedSubmission(
        key=uuid.uuid4(),
        handler=handler,
        posted={name: values for name, values in posted.items()},
        visitor_id=visitor_id,
        details=dict(details or {}),
        received_at=timezone.now(),
    )
    if buffer.in_use() and buffer.push(_document(item)):
        wake_worker()
    else:
        _store(item)
        transaction.on_commit(wake_worker)
    return Submission(outcome="received", unknown=unknown, receipt=item.key.hex)


def _document(item: ReceivedSubmission) -> bytes:
    """A submission as the buffer holds it (``_stored`` reads it back)."""
    return orjson.dumps(
        {
            "key": item.key.hex,
            "handler": item.handler_id,
            "posted": item.posted,
            "visitor": item.visitor_id,
            "details": item.details,
            "at": item.received_at,
        }
    )


def _stored(documents: list[bytes]) -> None:
    """INSERT taken submissions, skipping those stored already (a take stored twice) and
    those whose handler was deleted since (its rows go with it)."""
    items = [orjson.loads(document) for document in documents]
    handlers = {item["handler"] for item in items}
    live = set(FormHandler.objects.filter(pk__in=handlers).values_list("pk", flat=True))
    rows = [
        ReceivedSubmission(
            key=uuid.UUID(item["key"]),
            handler_id=item["handler"],
            posted=item["posted"],
            visitor_id=item["visitor"],
            details=item["details"],
            received_at=dt.datetime.fromisoformat(item["at"]),
        )
        for item in items
        if item["handler"] in live
    ]
    sql, fields = _insert(f"ON CONFLICT ({connection.ops.quote_name('key')}) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_values(row, fields) for row in rows])


def store_buffered(*, limit: int = BATCH) -> int:
    """Store up to ``limit`` submissions from the buffer (and any takes a dead worker left);
    returns how many documents were taken."""
    takes = buffer.take(limit)
    if not takes:
        return 0
    with transaction.atomic():
        _stored([document for taken in takes for document in taken.documents])
    buffer.release(takes)
    return sum(len(taken.documents) for taken in takes)


def _store(item: ReceivedSubmission) -> int:
    """INSERT the row; returns its id."""
    sql, fields = _insert(f"RETURNING {connection.ops.quote_name('id')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(item, fields))
        return cursor.fetchone()[0]


def _insert(suffix: str) -> tuple[str, list[Field]]:
    """The INSERT statement of a row, ``suffix`` after its values, and its fields. (The ORM's
    INSERT compiler cost a form post more than everything else it does; ``bulk_create`` cost
    the worker a tenth more per submission than this.)"""
    meta = ReceivedSubmission._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) {suffix}", fields


def _values(item: ReceivedSubmission, fields: list[Field]) -> list[Any]:
    """A row's values, prepared by each field as ``save()`` would."""
    return [f.get_db_prep_save(f.pre_save(item, True), connection) for f in fields]


def wake_worker() -> None:
    """Enqueue the worker's job (``_enqueue``) unless this process asked less than
    WAKE_AGAIN_SECONDS ago (see there)."""
    global _last_wake
    now = time.monotonic()
    if now - _last_wake < WAKE_AGAIN_SECONDS:
        return
    _last_wake = now
    _enqueue()


def _enqueue() -> None:
    """Enqueue the worker's job unless one was asked for in the last WAKE_SECONDS (the job
    clears the mark when it starts, so what arrives while it runs wakes the next one)."""
    try:
        if protection.redis_connection().set(WAKE_KEY, 1, nx=True, ex=WAKE_SECONDS):
            django_rq.get_queue("default").enqueue("intake.received.process_received_job")
    except Exception:  # noqa: BLE001 - Redis down: the cron finds the waiting rows
        log.warning("could not wake the submissions worker; the cron will", exc_info=True)


def process_received_job() -> int:
    """RQ job (and cron): apply every waiting submission, and those arriving meanwhile.

    After a batch smaller than BATCH (SQLITE_BATCH on SQLite) it waits GATHER_SECONDS, so what
    arrives meanwhile is applied as one batch; it ends when a look after such a wait finds
    nothing, or after JOB_SECONDS, enqueuing the next job if its last look found something
    (either way its last look comes at least GATHER_SECONDS after it started: what
    ``wake_worker`` counts on).
    """
    with contextlib.suppress(Exception):  # Redis down: the mark expires by itself
        protection.redis_connection().delete(WAKE_KEY)
    total, idle = 0, False
    batch = BATCH if connection.vendor == "postgresql" else SQLITE_BATCH
    started = time.monotonic()
    while True:
        looked = time.monotonic()
        done = process_received(limit=batch)
        total += done
        if looked - started > JOB_SECONDS:
            if done:  # more may wait, and no post may come to ask: the next job takes it
                _enqueue()
            return total
        if done >= batch:
            continue
        if idle and not done:
            return total
        idle = not done
        time.sleep(GATHER_SECONDS)


def process_received(*, limit: int = BATCH) -> int:
    """Apply up to ``limit`` waiting submissions, those in the buffer stored first; returns how
    many were applied."""
    store_buffered(limit=limit)
    completions: list[tuple[FormHandler, int]] = []
    with transaction.atomic():
        waiting = ReceivedSubmission.objects.filter(processed_at__isnull=True).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True, of=("self",))
        batch = list(waiting.select_related("handler")[:limit])
        if not batch:
            return 0
        by_handler: dict[int, list[ReceivedSubmission]] = defaultdict(list)
        for item in batch:
            by_handler[item.handler_id].append(item)
        for items in by_handler.values():
            completions += _apply(items[0].handler, items)
        # One plain UPDATE per row (executemany): bulk_update's CASE per column over the
        # batch was more than half the worker's time.
        update_many(batch, ["processed_at", "outcome", "prospect_id", "errors"])
    for handler, prospect_id in completions:
        label = f"{FORM_HANDLER.label} {handler.name}"
        run_completion_actions(handler, prospect_id=prospect_id, label=label)
    return len(batch)


def _apply(handler: FormHandler, items: list[ReceivedSubmission]) -> list[tuple[FormHandler, int]]:
    """Write one handler's submissions; sets each item's outcome (saved by the caller)."""
    now = timezone.now()
    mapping = mapping_of(handler)
    visitors = _visitor_emails({item.visitor_id for item in items if item.visitor_id})
    rows, details, kept = [], [], []
    for item in items:
        item.processed_at = now
        row, errors, unknown = map_posted(handler, mapping, item.posted)
        if errors:  # the handler's mapping changed since it was received
            item.outcome, item.errors = ReceivedSubmission.Outcome.FAILED, errors
            continue
        email = str(row.get("email") or "").strip().lower()
        known = visitors.get(item.visitor_id)
        if known is not None and (not email or known == email):
            row["prospect_id"] = item.visitor_id
        rows.append((len(rows), row))
        details.append(_details(row, unknown, item.details))
        kept.append(item)
    if not rows:
        return []
    options = WriteOptions(
        overwrite=True,
        create=True,
        assign_user=handler.action_assign_user,
        assign_queue=handler.action_assign_queue,
        campaign=handler.campaign,
        validate_values=True,
        reason=FORM_HANDLER.reason,
        operation=FORM_HANDLER.operation,
    )
    label = f"{FORM_HANDLER.label} {handler.name}"
    results = write_prospects(rows, options=options, actor=None, actor_label=label)
    back = {prospect_field: name for name, (prospect_field, _) in mapping.items()}
    done, unchanged = [], []
    for item, result, detail in zip(kept, results, details, strict=True):
        if not result.ok:
            item.outcome = ReceivedSubmission.Outcome.FAILED
            item.errors = {back.get(p.field, p.field or "form"): p.message for p in result.errors}
            continue
        item.outcome, item.prospect_id = result.outcome, result.prospect_id
        done.append((result.prospect_id, detail))
        if result.outcome == "unchanged":
            unchanged.append(result.prospect_id)
    record_activities(
        done, FORM_HANDLER.activity, title=handler.name, reason=None, insert=insert_many
    )
    if unchanged:  # the submission is news for Salesforce even when no field changed
        request_sync_many(sorted(set(unchanged)), FORM_HANDLER.reason)
    if not handler.has_completion_actions:
        return []
    return [(handler, prospect_id) for prospect_id, _ in done]


def _visitor_emails(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        Prospect.objects.active()
        .filter(pk__in=ids)
        .annotate(email_ci=Lower("email"))
        .values_list("pk", "email_ci")
    )


def _details(row: Mapping[str, Any], unknown: list[str], extra: Mapping[str, Any]) -> dict:
    return {
        "values": {
            name: value[:DETAIL_VALUE_LIMIT] if isinstance(value, str) else value
            for name, value in row.items()
            if name != "prospect_id"
        },
        **({"unknown_fields": unknown[:MAX_UNKNOWN_NOTED]} if unknown else {}),
        **extra,
    }

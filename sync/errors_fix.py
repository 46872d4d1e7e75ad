"""Fixing sync errors: edit the values a prospect sends, and resync prospects now.

The Sync Errors detail page (inline edit), the CSV re-import and the resync buttons and job all
call these functions, so a value is validated the same way wherever it is corrected.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from prospects.forms import ProspectForm
from prospects.models import SCORE_VALIDATORS, CustomField, Prospect
from sync.describe import cached_describe, field_describe
from sync.engine import queue
from sync.engine.outbound import Outcome, PushReport, Result, push_prospects
from sync.errors import describe_constraint, fix_in_salesforce
from sync.models import Connector, FieldRule, SyncError, SyncQueueItem, SyncReason
from sync.salesforce import COLLECTION_SIZE, SalesforceError
from sync.triggers import request_sync, request_sync_many

CUSTOM_PREFIX = "custom:"
# Relations and bookkeeping are not edited from a spreadsheet cell.
NOT_EDITABLE = {"campaign", "assigned_user"}
EDITABLE_FIELDS = [name for name in ProspectForm.Meta.fields if name not in NOT_EDITABLE]
# When no field rule maps anything yet, the export still carries the fields people fix most.
STANDARD_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "company",
    "job_title",
    "phone",
    "city",
    "state",
    "country",
    "comments",
]
RULE_COLUMN = {"Lead": "lead_field", "Contact": "contact_field", "Account": "person_account_field"}
TRUE = {"true", "1", "yes", "y", "on", "x"}
FALSE = {"false", "0", "no", "n", "off", ""}


def active_connector() -> Connector | None:
    return Connector.objects.filter(state=Connector.State.ACTIVE).first()


# -- which prospect field feeds a Salesforce field ----------------------------------------------


def prospect_field_for(*, connector: Connector | None, sobject: str, sf_field: str) -> str | None:
    """The editable prospect field whose rule maps to ``sobject.sf_field``, if any."""
    column = RULE_COLUMN.get(sobject)
    if not column or not sf_field:
        return None
    rules = FieldRule.objects.filter(**{f"{column}__iexact": sf_field})
    if connector is not None:
        rules = rules.filter(connector=connector)
    name = rules.values_list("prospect_field", flat=True).first()
    return name if name and is_editable(name) else None


def is_editable(name: str) -> bool:
    if name.startswith(CUSTOM_PREFIX):
        return CustomField.objects.filter(api_name=name.removeprefix(CUSTOM_PREFIX)).exists()
    return name in EDITABLE_FIELDS


def mapped_columns(connector: Connector | None) -> list[str]:
    """The prospect fields the export carries: those field rules map, else a standard set."""
    if connector is None:
        return list(STANDARD_COLUMNS)
    rules = (
        FieldRule.objects.filter(connector=connector)
        .exclude(behaviour=FieldRule.Behaviour.DONT_SYNC)
        .exclude(lead_field="", contact_field="", person_account_field="")
        .values_list("prospect_field", flat=True)
    )
    custom = set(CustomField.objects.values_list("api_name", flat=True))
    names = [
        name
        for name in rules
        if name in EDITABLE_FIELDS
        or (name.startswith(CUSTOM_PREFIX) and name.removeprefix(CUSTOM_PREFIX) in custom)
    ]
    order = {name: i for i, name in enumerate(EDITABLE_FIELDS)}
    names.sort(key=lambda n: (order.get(n, len(order)), n))
    return names or list(STANDARD_COLUMNS)


def get_value(prospect: Prospect, name: str) -> object:
    if name.startswith(CUSTOM_PREFIX):
        return (prospect.custom_fields or {}).get(name.removeprefix(CUSTOM_PREFIX))
    return getattr(prospect, name)


# -- validating and applying values -------------------------------------------------------------


def clean_value(name: str, raw: str, *, custom: Mapping[str, CustomField] | None = None):
    """The stored value of ``raw`` (text from a form or a CSV cell) for prospect field ``name``.

    Raises ValidationError with a message a marketer can act on.
    """
    raw = "" if raw is None else str(raw)
    if name.startswith(CUSTOM_PREFIX):
        api_name = name.removeprefix(CUSTOM_PREFIX)
        definition = (custom or {}).get(api_name) or CustomField.objects.filter(
            api_name=api_name
        ).first()
        if definition is None:
            raise ValidationError(f"there is no custom field {api_name!r}")
        return _clean_custom(definition, raw.strip())
    if name not in EDITABLE_FIELDS:
        raise ValidationError(f"{name!r} is not a prospect field that can be edited here")
    try:
        model_field = Prospect._meta.get_field(name)
    except FieldDoesNotExist as exc:  # pragma: no cover - EDITABLE_FIELDS are model fields
        raise ValidationError(f"{name!r} is not a prospect field") from exc
    if model_field.get_internal_type() == "BooleanField":
        return _clean_bool(raw)
    text_field = model_field.get_internal_type() in (
        "CharField",
        "TextField",
        "EmailField",
        "URLField",
    )
    value = model_field.formfield().clean(raw if text_field else raw.strip())
    if value is None and not model_field.null:
        if not text_field:
            raise ValidationError("a value is required")
        value = ""
    if value not in (None, ""):
        model_field.run_validators(value)
        for validator in SCORE_VALIDATORS if name == "score" else ():
            validator(value)
    return value


def _clean_bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError(f"{raw!r} is not true or false")


def _clean_custom(definition: CustomField, text: str):
    kind = definition.type
    if text == "":
        return None
    if kind == CustomField.Type.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError(f"{text!r} is not a number") from exc
        if not number.is_finite():
            raise ValidationError(f"{text!r} is not a number")
        return str(number)
    if kind == CustomField.Type.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValidationError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    if kind == CustomField.Type.CHECKBOX:
        return _clean_bool(text)
    if kind in (CustomField.Type.DROPDOWN, CustomField.Type.MULTI_SELECT):
        chosen = [v.strip() for v in text.split(";")] if kind == "multi_select" else [text]
        allowed = list(definition.choices or [])
        wrong = [v for v in chosen if allowed and v not in allowed]
        if wrong and definition.validate_on_import:
            raise ValidationError(
                f"{', '.join(map(repr, wrong))} is not one of: {', '.join(allowed)}"
            )
        return ";".join(chosen) if kind == "multi_select" else text
    return text


def apply_values(
    *, prospect: Prospect, values: Mapping[str, str], custom: Mapping | None = None
) -> list[str]:
    """Validate and save ``values`` (field name → text) on ``prospect``; return what changed.

    All or nothing: the first invalid value raises ValidationError (message names the field)
    and nothing is saved.
    """
    cleaned = {}
    problems = []
    for name, raw in values.items():
        try:
            cleaned[name] = clean_value(name, raw, custom=custom)
        except ValidationError as exc:
            problems.append(f"{name}: {' '.join(exc.messages)}")
    if problems:
        raise ValidationError(problems)
    changed = [
        name for name, value in cleaned.items() if _differs(get_value(prospect, name), value)
    ]
    if not changed:
        return []
    for name in changed:
        if name.startswith(CUSTOM_PREFIX):
            key = name.removeprefix(CUSTOM_PREFIX)
            prospect.custom_fields = {**(prospect.custom_fields or {}), key: cleaned[name]}
            if cleaned[name] is None:
                prospect.custom_fields.pop(key)
        else:
            setattr(prospect, name, cleaned[name])
    prospect.stamp_changes(changed)
    prospect.save()
    return changed


def _differs(old: object, new: object) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return Decimal(str(old)) != Decimal(str(new))
        except (InvalidOperation, ValueError):
            return True
    return (old if old is not None else "") != (new if new is not None else "")


def fix_value(*, prospect: Prospect, name: str, raw: str) -> list[str]:
    """The guide's option 1: edit one value here, then ask for a sync (resync follows)."""
    with transaction.atomic():
        changed = apply_values(prospect=prospect, values={name: raw})
        request_sync(prospect, SyncReason.ERROR_RESYNC)
    return changed


# -- resync -------------------------------------------------------------------------------------


@dataclass
class ResyncReport:
    """What a resync did: the engine's outcomes, prospects that no longer exist, queued ones."""

    push: PushReport = field(default_factory=PushReport)
    missing: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)

    @property
    def cleared(self) -> int:
        return self.push.synced

    @property
    def failed(self) -> int:
        return self.push.failed

    def outcome(self, prospect_id: int) -> Outcome | None:
        return self.push.by_prospect().get(prospect_id)


def resync_prospects(
    *, prospect_ids: Sequence[int], connector: Connector | None = None
) -> ResyncReport:
    """Request a sync of these prospects and push them now when the connector is active.

    1. Prospects that no longer exist are reported, not pushed.
    2. The rest are marked pending (``request_sync_many``): the database keeps the request even
       if this push dies, and the worker finishes it.
    3. With an active connector, the pending rows not claimed by a worker are claimed, pushed
       through the engine and settled (transient failures go back with backoff).
    """
    report = ResyncReport()
    wanted = list(dict.fromkeys(prospect_ids))
    existing = set(Prospect.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    report.missing = [pk for pk in wanted if pk not in existing]
    ids = [pk for pk in wanted if pk in existing]
    if not ids:
        return report
    with transaction.atomic():
        request_sync_many(ids, SyncReason.ERROR_RESYNC)
    connector = connector or active_connector()
    if connector is None or not connector.is_active:
        report.queued = ids
        return report
    claims = _claim(ids)
    report.queued = sorted(set(ids) - {c.prospect_id for c in claims})
    if not claims:
        return report
    try:
        report.push = push_prospects(
            connector=connector, prospect_ids=[c.prospect_id for c in claims]
        )
    except SalesforceError as exc:  # e.g. the token endpoint refused: the worker retries
        queue.release(claims)
        report.push = PushReport(
            [Outcome(c.prospect_id, Result.RETRY, message=exc.message) for c in claims]
        )
        return report
    retry = report.push.retry_ids
    queue.settle_retry([c for c in claims if c.prospect_id in retry])
    _settle_done([c for c in claims if c.prospect_id not in retry])
    return report


def _settle_done(claims: list[queue.Claim]) -> None:
    """``queue.settle_done`` in two statements: delete the rows still at the pushed generation,
    release the rest (a newer request arrived while the push was in flight)."""
    if not claims:
        return
    pushed = Q()
    for claim in claims:
        pushed |= Q(pk=claim.item_id, generation=claim.generation)
    SyncQueueItem.objects.filter(pushed).delete()
    SyncQueueItem.objects.filter(pk__in=[c.item_id for c in claims]).update(
        claimed_at=None, claimed_by=""
    )


def _claim(prospect_ids: list[int]) -> list[queue.Claim]:
    """Claim these prospects' pending rows (skipping any a worker holds); commit the claim."""
    token = f"errors-resync:{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    queue.claimable(now).filter(prospect_id__in=prospect_ids).update(
        claimed_at=now, claimed_by=token
    )
    rows = SyncQueueItem.objects.filter(claimed_by=token).values(
        "pk", "prospect_id", "generation", "attempts"
    )
    return [queue.Claim(r["pk"], r["prospect_id"], r["generation"], r["attempts"]) for r in rows]


# -- one row --------------------------------------------------------------------------------------


@dataclass
class RowResult:
    """What resyncing one error's prospect did, for the row that replaces it on the page."""

    state: str  # cleared, failed, queued, waiting, retry, deleted
    message: str = ""
    errors: list = field(default_factory=list)  # the prospect's open errors afterwards


def resync_error(*, error: SyncError) -> RowResult:
    """Resync the prospect behind ``error`` now and say what became of the row.

    An error whose prospect was deleted cannot be resynced: it is resolved as such.
    """
    if error.prospect_id is None or not Prospect.objects.filter(pk=error.prospect_id).exists():
        SyncError.objects.filter(pk=error.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=SyncError.Resolution.PROSPECT_DELETED
        )
        return RowResult("deleted", "The prospect was deleted; there is nothing to resync.")
    report = resync_prospects(prospect_ids=[error.prospect_id], connector=None)
    still_open = list(SyncError.objects.open().filter(prospect_id=error.prospect_id))
    outcome = report.outcome(error.prospect_id)
    if outcome is None:
        return RowResult(
            "queued", "Queued: the connector is paused or a worker is syncing it.", still_open
        )
    if outcome.result in (Result.SYNCED, Result.NOTHING):
        where = f" with {outcome.sobject} {outcome.record_id}" if outcome.record_id else ""
        return RowResult("cleared", f"Cleared: synced{where}.")
    if outcome.result == Result.ERROR:
        return RowResult("failed", outcome.message, still_open)
    if outcome.result == Result.WAITING:
        return RowResult("waiting", "Not synced: waiting for assignment.", still_open)
    return RowResult(
        "retry", f"Salesforce is unavailable ({outcome.message}); retrying.", still_open
    )


# -- root cause ---------------------------------------------------------------------------------


@dataclass
class RootCause:
    """Everything the detail page shows to explain an error and offer the guide's two fixes."""

    constraint: str
    salesforce_fix: str
    field_describe: dict | None
    prospect_field: str | None  # the prospect field to edit here (None: nothing maps to it)
    current_value: object
    max_length: int | None
    same_code_and_field: int  # open errors sharing this code and field (one decision fixes all)


def root_cause(*, error: SyncError) -> RootCause:
    """Explain ``error`` from the cached describe (never calls Salesforce from a page view)."""
    connector = error.connector or Connector.objects.first()
    describe = (
        cached_describe(connector=connector, sobject=error.sobject)
        if connector and error.sobject
        else None
    )
    described = field_describe(describe, error.field) if error.field else None
    constraint = error.constraint or describe_constraint(described, error.value_sent)
    name = prospect_field_for(connector=connector, sobject=error.sobject, sf_field=error.field)
    prospect = error.prospect
    shared = SyncError.objects.open().filter(error_code=error.error_code, field=error.field).count()
    return RootCause(
        constraint=constraint,
        salesforce_fix=fix_in_salesforce(
            described or _minimal_describe(error), error.value_sent, error.error_code
        ),
        field_describe=described,
        prospect_field=name,
        current_value=get_value(prospect, name) if prospect and name else None,
        max_length=(described or {}).get("length") or _length_from_message(error.message),
        same_code_and_field=shared,
    )


def _length_from_message(message: str) -> int | None:
    match = re.search(r"max length(?: is|=| =)\s*(\d+)", message or "")
    return int(match.group(1)) if match else None


def _minimal_describe(error: SyncError) -> dict | None:
    """Enough of a describe, from Salesforce's message, to advise when describe is not cached."""
    length = _length_from_message(error.message)
    if error.error_code == "STRING_TOO_LONG" and length and error.field:
        return {"name": error.field, "type": "string", "length": length}
    return None


def resync_in_chunks(
    *,
    prospect_ids: Sequence[int],
    on_chunk: Callable[[ResyncReport, int], None],
    chunk_size: int = COLLECTION_SIZE,
    workers: int | None = None,
) -> None:
    """``resync_prospects`` for many prospects, a Collections call's worth at a time.

    On PostgreSQL several chunks go out at once (``SYNC_ERRORS_RESYNC_WORKERS`` threads, each
    with its own database connection): most of a chunk's time is spent waiting on Salesforce.
    SQLite allows one writer, so there the chunks run one after another.
    """
    chunks = [
        list(prospect_ids[i : i + chunk_size]) for i in range(0, len(prospect_ids), chunk_size)
    ]
    if workers is None:
        workers = getattr(settings, "SYNC_ERRORS_RESYNC_WORKERS", 4)
    if db_connection.vendor != "postgresql" or workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            on_chunk(resync_prospects(prospect_ids=chunk), len(chunk))
        return

    def run(chunk: list[int]) -> tuple[ResyncReport, int]:
        try:
            return resync_prospects(prospect_ids=chunk), len(chunk)
        finally:
            db_connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for report, size in pool.map(run, chunks):
            on_chunk(report, size)

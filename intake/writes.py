"""The one way prospects come in: imports, the API, form handlers, forms and landing pages all
write through ``write_prospects``.

Each caller hands over rows (a row number and field name → value) and gets one result per row.
What every path needs, and what this module guarantees:

1. **Matching, as Pardot does it.** A row names its prospect by ``prospect_id`` (a visitor's
   cookie, an API path), else by ``crm_id`` (a Lead or Contact id), else by email — and when
   several prospects share that email (AMPSEA: allow multiple prospects with the same email
   address), the most recently active one is updated. Emails match without regard to case.
   Nothing matches and ``create`` is on: a new prospect, which needs a valid email.
2. **A row is all or nothing.** Every value is validated first (the same rules as the edit form
   and the Sync Errors fix); a row with any problem changes nothing and reports each problem
   with its field.
3. **Only what changed is written, and nothing newer is reverted.** Matched prospects are
   locked (in id order: two imports never deadlock), each field is compared with what the
   prospect holds *now*, and only differing fields are written and stamped for "most recent
   value wins". With ``overwrite=False`` only blank fields are filled. An opted-out prospect
   stays opted out unless the caller is the preference centre (``allow_opt_in``).
4. **It says who did it, and asks for the sync once.** Each change is one history row naming
   the actor; created and changed prospects are queued with one ``request_sync_many`` call.
   Optionally one activity per row (a form submission is an activity even when it changed
   nothing).
5. **Salesforce campaign membership, when asked.** With ``salesforce_campaign`` every row
   written is added to it (``crm.memberships.add_to_campaign``) after the rows commit.

One call is one transaction: callers send chunks (an import: 1,000 rows at a time), so a crash
loses at most the chunk in flight, which the next run applies again without duplicates (the
rows then match what the first attempt created).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import (
    EmailValidator,
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    validate_email,
)
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.bulk import clone
from crm.memberships import CampaignError, add_to_campaign
from crm.models import SalesforceCampaign
from prospects.activities import record_activities
from prospects.edits import column_of, jsonable
from prospects.models import (
    CUSTOM_PREFIX,
    SCORE_VALIDATORS,
    ActivityType,
    Campaign,
    CrmQueue,
    CustomField,
    Direction,
    Prospect,
    SyncHistory,
    SyncReason,
    actor_name,
)
from prospects.sync_requests import request_sync_many
from sync import bulk_sql
from sync.errors.fix import EDITABLE_FIELDS, FALSE, TRUE, _differs
from sync.errors.fix import _clean_custom as clean_custom

# The name a Salesforce campaign problem carries in a row's result.
CAMPAIGN_FIELD = "salesforce_campaign"
# Keys that pick the prospect; never written.
MATCH_KEYS = ("prospect_id", "crm_id")
# Written through options (or the prospect page), never from a row's cell.
NOT_FROM_ROWS = {"campaign", "assigned_user", "assigned_queue", "do_not_sync"}
WRITABLE = [name for name in EDITABLE_FIELDS if name not in NOT_FROM_ROWS]


@dataclass(frozen=True)
class FieldProblem:
    field: str  # the prospect field name ("" for the row as a whole)
    message: str


@dataclass
class RowResult:
    index: int
    outcome: str  # "created" | "updated" | "unchanged" | "failed"
    prospect_id: int | None = None
    errors: list[FieldProblem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


@dataclass(frozen=True)
class WriteOptions:
    overwrite: bool = True  # False: only fill fields that are blank on the prospect
    create: bool = True  # create a prospect when nothing matches
    assign_user: Any = None  # new prospects only
    assign_queue: CrmQueue | None = None  # new prospects only
    campaign: Campaign | None = None  # new prospects only (the first touch)
    # Predefined values of dropdown and multi-select custom fields: True refuses others, False
    # accepts them, None follows each field's own "validate on import" setting.
    validate_values: bool | None = None
    reason: SyncReason = SyncReason.CSV_IMPORT
    operation: str = "import"  # how history names the write
    activity: ActivityType | None = None  # one activity per matched or created row
    activity_title: str = ""
    activity_details: Mapping[str, Any] | None = None
    activity_on_unchanged: bool = True
    # Only the preference centre (the person themselves) may clear an opt-out.
    allow_opt_in: bool = False
    # Every row written (created, updated or unchanged) is added to this Salesforce campaign
    # with this member status (blank: the campaign's default, existing members left as they
    # are); the engine pushes the members once the prospects are in Salesforce.
    salesforce_campaign: SalesforceCampaign | None = None
    campaign_member_status: str = ""


# -- validating a row --------------------------------------------------------------------------


class _Cleaner:
    """Validates values by field name, with the form fields built once per call, not per cell."""

    def __init__(self, options: WriteOptions) -> None:
        definitions = {c.api_name: c for c in CustomField.objects.all()}
        if options.validate_values is not None:
            for key, definition in list(definitions.items()):
                definition = copy.copy(definition)
                definition.validate_on_import = options.validate_values
                definitions[key] = definition
        self.definitions = definitions
        self._cleaners: dict[str, Callable[[Any], Any]] = {}

    def clean_row(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
        cleaned: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for name, raw in values.items():
            if name in MATCH_KEYS:
                continue
            try:
                cleaned[name] = self.clean(name, raw)
            except ValidationError as exc:
                problems.append(FieldProblem(name, " ".join(exc.messages)))
        return cleaned, problems

    def clean(self, name: str, raw: Any) -> Any:
        cleaner = self._cleaners.get(name)
        if cleaner is None:
            cleaner = self._cleaners[name] = self._cleaner_for(name)
        return cleaner(raw)

    def _cleaner_for(self, name: str) -> Callable[[Any], Any]:
        """The function that cleans this column's values, chosen once per call (an import's
        chunk is 1,000 rows of the same columns): the per-cell work is then only the checks."""
        if name.startswith(CUSTOM_PREFIX):
            return partial(self._clean_custom, name.removeprefix(CUSTOM_PREFIX))
        if name not in WRITABLE:
            message = (
                f"{name} is set by the options, not by a value"
                if name in NOT_FROM_ROWS
                else f"there is no prospect field {name!r}"
            )
            return partial(_refuse, message)
        model_field = Prospect._meta.get_field(name)
        if model_field.get_internal_type() == "BooleanField":
            return _clean_bool
        form_field = model_field.formfield()
        # The model's validators the form field has not run already (an email is checked once).
        extra = [v for v in model_field.validators if v not in form_field.validators]
        if name == "score":
            extra += SCORE_VALIDATORS
        slow = _remembered(partial(_clean_standard, model_field, form_field, extra))
        checks = _text_checks(model_field, form_field)
        if checks is None:
            return slow
        return partial(_clean_text, *checks, form_field.required, slow)

    def _clean_custom(self, api_name: str, raw: Any) -> Any:
        definition = self.definitions.get(api_name)
        if definition is None:
            raise ValidationError(f"there is no custom field {api_name!r}")
        if isinstance(raw, list | tuple):
            raw = ";".join(str(v) for v in raw)
        elif isinstance(raw, bool):
            raw = "true" if raw else "false"
        return clean_custom(definition, "" if raw is None else str(raw).strip())


def _remembered(cleaner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``cleaner`` remembering what it made of each text (a column repeats its values: a
    website, a country, a revenue band); refusals are not remembered, they raise again."""
    seen: dict[str, Any] = {}

    def clean(raw: Any) -> Any:
        if type(raw) is not str:
            return cleaner(raw)
        try:
            return seen[raw]
        except KeyError:
            value = seen[raw] = cleaner(raw)
            return value

    return clean


def _refuse(message: str, raw: Any) -> Any:
    raise ValidationError(message)


def _clean_standard(
    model_field: models.Field, form_field: Any, extra: Sequence[Callable], raw: Any
) -> Any:
    """A standard field's value as the edit form takes it: the form field's clean, then the
    model field's validators (``extra``: those the form field did not run; and the score's
    bounds)."""
    kind = model_field.get_internal_type()
    if isinstance(raw, bool | list | tuple | dict):
        raise ValidationError(f"expected a single value, not {type(raw).__name__}")
    text = "" if raw is None else raw if isinstance(raw, str) else str(raw)
    textual = kind in ("CharField", "TextField", "EmailField", "URLField")
    value = form_field.clean(text if textual else text.strip())
    if value is None and not model_field.null:
        if not textual:
            raise ValidationError("a value is required")
        value = ""
    if value not in (None, ""):
        try:
            for validator in extra:
                validator(value)
        except ValidationError:
            # The model field's own run gathers every message, as the edit form shows them.
            model_field.run_validators(value)
            raise
    return value


def _text_checks(model_field: models.Field, form_field: Any) -> tuple[int, bool] | None:
    """For a text column whose form field only strips (a CharField or an EmailField) and whose
    validators, form's and model's, are a length, no NUL characters and Django's email check:
    ``(maximum length or 0, whether an email)``, checked inline by ``_clean_text``. Else None:
    that column always takes ``_clean_standard``."""
    if type(form_field) not in (forms.CharField, forms.EmailField):
        return None
    if not form_field.strip or form_field.empty_value != "":
        return None
    max_length, email = 0, False
    for validator in [*form_field.validators, *model_field.validators]:
        if type(validator) is MaxLengthValidator and isinstance(validator.limit_value, int):
            limit = validator.limit_value
            max_length = min(max_length, limit) if max_length else limit
        elif type(validator) is EmailValidator and validator == validate_email:
            email = True
        elif type(validator) is not ProhibitNullCharactersValidator:
            return None
    return max_length, email


def _clean_text(
    max_length: int, email: bool, required: bool, slow: Callable[[Any], Any], raw: Any
) -> Any:
    """What ``_clean_standard`` returns for such a column, without its machinery: the same
    checks, each once, an email's domain checked once per domain. A value any check refuses
    goes through ``_clean_standard``, for the very same messages."""
    if type(raw) is str:
        value = raw.strip()
        if not value:
            if not required:
                return value
        elif (
            (not max_length or len(value) <= max_length)
            and "\x00" not in value
            and (not email or _is_email(value))
        ):
            return value
    return slow(raw)


def _is_email(value: str) -> bool:
    """``validate_email`` (django.core.validators.EmailValidator) as a yes or no."""
    if "@" not in value or len(value) > 320:
        return False
    user_part, domain_part = value.rsplit("@", 1)
    return bool(validate_email.user_regex.match(user_part)) and _is_email_domain(domain_part)


@lru_cache(maxsize=4096)
def _is_email_domain(domain_part: str) -> bool:
    return domain_part in validate_email.domain_allowlist or validate_email.validate_domain_part(
        domain_part
    )


def _clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError(f"{raw!r} is not true or false")


def _blank(value: Any) -> bool:
    return value is None or value == "" or value is False


# -- matching ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class _Matcher:
    """Finds each row's prospect, as Pardot's rules say, with three queries per call."""

    def __init__(self, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        ids, crm_ids, emails = set(), set(), set()
        for _, values in rows:
            pid = _text(values.get("prospect_id"))
            if pid.isascii() and pid.isdigit() and len(pid) < 19:
                ids.add(int(pid))
            crm_id = _text(values.get("crm_id"))
            if crm_id:
                crm_ids.add(crm_id)
            email = _text(values.get("email")).lower()
            if email:
                emails.add(email)
        active = Prospect.objects.active()
        found: set[int] = set(active.filter(pk__in=ids).values_list("pk", flat=True))
        self.by_id = found
        self.by_crm: dict[str, int] = {}
        if crm_ids:
            # A 15-character id is the 18-character one's prefix; compare on 15.
            short = {c[:15] for c in crm_ids}
            for pk, contact, lead in (
                active.filter(
                    Q(crm_lead_id__in=_id_forms(crm_ids)) | Q(crm_contact_id__in=_id_forms(crm_ids))
                )
                .order_by(F("last_activity_at").desc(nulls_last=True), "-updated_at", "-pk")
                .values_list("pk", "crm_contact_id", "crm_lead_id")
            ):
                for crm in (lead, contact):
                    if crm and crm[:15] in short:
                        self.by_crm.setdefault(crm[:15], pk)
        self.by_email: dict[str, int] = {}
        if emails:
            # AMPSEA: the most recently active prospect with the email wins.
            for pk, email in (
                active.annotate(email_ci=Lower("email"))
                .filter(email_ci__in=emails)
                .order_by(F("last_activity_at").desc(nulls_last=True), "-updated_at", "-pk")
                .values_list("pk", "email_ci")
            ):
                self.by_email.setdefault(email, pk)

    def match(self, values: Mapping[str, Any]) -> int | None:
        pid = _text(values.get("prospect_id"))
        if pid.isascii() and pid.isdigit() and int(pid) in self.by_id:
            return int(pid)
        crm_id = _text(values.get("crm_id"))
        if crm_id and crm_id[:15] in self.by_crm:
            return self.by_crm[crm_id[:15]]
        return self.by_email.get(_text(values.get("email")).lower())

    def candidates(self) -> set[int]:
        return self.by_id | set(self.by_crm.values()) | set(self.by_email.values())


def _id_forms(crm_ids: set[str]) -> list[str]:
    """Stored ids are 18 characters; a row may carry the 15-character form (a report export)."""
    return sorted({to_18(crm_id) for crm_id in crm_ids})


_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(crm_id: str) -> str:
    """Salesforce's case-safe 18-character form of a 15-character id (others unchanged)."""
    if len(crm_id) != 15 or not crm_id.isalnum():
        return crm_id
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(crm_id[start : start + 5]) if char.isupper())
        suffix += _ID_SUFFIX[bits]
    return crm_id + suffix


# -- writing -------------------------------------------------------------------------------------


def write_prospects(
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    options: WriteOptions = WriteOptions(),
    actor=None,
    actor_label: str = "",
) -> list[RowResult]:
    """Create or update the prospects these rows describe; one ``RowResult`` per row, in order.

    ``actor`` is the portal user doing it (``None`` for the public paths, with ``actor_label``
    naming the source in history, e.g. "Form handler Contact us").
    """
    cleaner = _Cleaner(options)
    results: list[RowResult] = []
    cleaned_rows: list[tuple[RowResult, dict[str, Any], Mapping[str, Any]]] = []
    for index, values in rows:
        result = RowResult(index=index, outcome="failed")
        results.append(result)
        if not isinstance(values, Mapping):
            result.errors.append(FieldProblem("", "a row must be a set of field values"))
            continue
        cleaned, problems = cleaner.clean_row(values)
        if problems:
            result.errors = problems
            continue
        cleaned_rows.append((result, cleaned, values))
    if not cleaned_rows:
        return results

    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    label = actor_name(user) if user else actor_label[:150]
    now = timezone.now()
    with transaction.atomic():
        matcher = _Matcher([(r.index, raw) for r, _, raw in cleaned_rows])
        locked = {
            p.pk: p
            for p in Prospect.objects.select_for_update()
            .filter(pk__in=sorted(matcher.candidates()))
            .order_by("pk")
        }
        writer = _Writer(options, cleaner, locked, now)
        for result, cleaned, raw in cleaned_rows:
            writer.apply(result, cleaned, matcher.match(raw), raw)
        writer.save(user=user, label=label)
    if options.salesforce_campaign is not None:
        _add_to_salesforce_campaign(results, options, user)
    return results


def _add_to_salesforce_campaign(results: list[RowResult], options: WriteOptions, user) -> None:
    """Add the written rows' prospects to the options' Salesforce campaign. Callers check the
    campaign and status first (``crm.memberships.check_campaign``); one that turned bad since
    (deleted or deactivated in Salesforce meanwhile) is noted on each row, whose write stands."""
    written = [r for r in results if r.ok and r.prospect_id is not None]
    if not written:
        return
    status = options.campaign_member_status
    try:
        add_to_campaign(
            [r.prospect_id for r in written],
            options.salesforce_campaign,
            status,
            actor=user,
            update_existing=bool(status),
        )
    except CampaignError as exc:
        for result in written:
            result.errors.append(FieldProblem(CAMPAIGN_FIELD, f"Not added to the campaign: {exc}"))


class _Writer:
    """Applies cleaned rows to locked prospects in memory, then writes them in bulk."""

    def __init__(self, options: WriteOptions, cleaner: _Cleaner, locked: dict, now) -> None:
        self.options = options
        self.cleaner = cleaner
        self.locked = locked
        self.now = now
        self.new: list[Prospect] = []
        self.new_by_email: dict[str, Prospect] = {}
        self.results_of_new: dict[int, list[RowResult]] = {}  # id(prospect) → its rows
        self.changes: dict[int, dict[str, dict]] = {}  # pk → field → {old, new}
        self.touched: list[tuple[RowResult, Prospect]] = []
        self._template: Prospect | None = None

    def _blank(self) -> Prospect:
        """A new prospect with the options' assignment and campaign (a clone of one built
        once: ``Model.__init__`` per row was a fifth of an import's time)."""
        if self._template is None:
            self._template = Prospect(
                assigned_user=self.options.assign_user,
                assigned_queue=self.options.assign_queue,
                campaign=self.options.campaign,
            )
        return clone(self._template)

    def apply(self, result: RowResult, cleaned: dict, pk: int | None, raw: Mapping) -> None:
        prospect = self.locked.get(pk) if pk is not None else None
        if prospect is None:
            email = _text(cleaned.get("email")).lower()
            prospect = self.new_by_email.get(email) if email else None
        if prospect is None:
            self._create(result, cleaned)
            return
        changed = self._update(prospect, cleaned)
        result.prospect_id = prospect.pk
        result.changed = changed
        if prospect.pk is None:  # a prospect an earlier row of this call creates
            result.outcome = "created"
            self.results_of_new[id(prospect)].append(result)
        else:
            result.outcome = "updated" if changed else "unchanged"
        self.touched.append((result, prospect))

    def _create(self, result: RowResult, cleaned: dict) -> None:
        if not self.options.create:
            result.errors.append(FieldProblem("", "no prospect matches, and creating is off"))
            return
        email = _text(cleaned.get("email"))
        if not email:
            result.errors.append(FieldProblem("email", "a new prospect needs an email address"))
            return
        prospect = self._blank()
        for name, value in cleaned.items():
            prospect.set_field(name, value, definitions=self.cleaner.definitions)
        prospect.stamp_changes(cleaned, at=self.now)
        prospect.updated_at = self.now
        if self.options.activity is not None:
            prospect.last_activity_at = self.now
        self.new.append(prospect)
        self.new_by_email[email.lower()] = prospect
        self.results_of_new[id(prospect)] = [result]
        result.outcome = "created"
        result.changed = sorted(cleaned)
        self.touched.append((result, prospect))

    def _update(self, prospect: Prospect, cleaned: dict) -> list[str]:
        changed = []
        for name, value in cleaned.items():
            old = prospect.get_field(name)
            if name == "email" and _text(old).lower() == _text(value).lower():
                continue  # the same address in other letters: not a change
            if name == "opted_out" and old and not value and not self.options.allow_opt_in:
                continue  # an opt-out is the person's; only they undo it
            if not self.options.overwrite and not _blank(old):
                continue
            if not _differs(old, value):
                continue
            prospect.set_field(name, value, definitions=self.cleaner.definitions)
            if prospect.pk is not None:
                entry = self.changes.setdefault(prospect.pk, {}).setdefault(
                    name, {"field": name, "old": jsonable(old)}
                )
                entry["new"] = jsonable(prospect.get_field(name))
            changed.append(name)
        if changed:
            prospect.stamp_changes(changed, at=self.now)
        return changed

    def save(self, *, user, label: str) -> None:
        options = self.options
        updated = [p for pk, p in self.locked.items() if self.changes.get(pk)]
        # One UPDATE per set of changed columns, not one per prospect.
        groups: dict[frozenset, list[Prospect]] = {}
        for prospect in updated:
            columns = {column_of(name) for name in self.changes[prospect.pk]}
            groups.setdefault(frozenset(columns), []).append(prospect)
        for columns, prospects in groups.items():
            for prospect in prospects:
                prospect.updated_at = self.now
            update_many(prospects, sorted(columns | {"field_changed_at", "updated_at"}))
        if self.new:
            bulk_sql.create(Prospect, self.new)
            for prospect in self.new:
                for result in self.results_of_new[id(prospect)]:
                    result.prospect_id = prospect.pk
        common = SyncHistory(
            at=self.now,
            direction=Direction.LOCAL,
            operation=options.operation,
            reason=options.reason,
            result=SyncHistory.Result.DONE,
            actor=user,
            actor_label=label,
        )
        history = [
            clone(common, prospect_id=pk, changes=list(fields.values()))
            for pk, fields in self.changes.items()
            if fields
        ]
        created = clone(
            common, operation="create", message=f"Created by {options.operation}", changes=[]
        )
        history += [clone(created, prospect_id=prospect.pk, changes=[]) for prospect in self.new]
        insert_many(SyncHistory, history)
        self._record_activities(user)
        changed_ids = [p.pk for p in updated] + [p.pk for p in self.new]
        if changed_ids:
            request_sync_many(changed_ids, options.reason)

    def _record_activities(self, user) -> None:
        options = self.options
        if options.activity is None:
            return
        ids = []
        for result, prospect in self.touched:
            if result.outcome == "unchanged" and not options.activity_on_unchanged:
                continue
            ids.append(prospect.pk)
        if not ids:
            return
        # Points from the scoring rules, score and last activity in one UPDATE, and a sync for
        # the prospects whose score or last activity moved (an unchanged row's included).
        record_activities(
            ids,
            options.activity,
            title=options.activity_title,
            details=options.activity_details,
            actor=user,
            occurred_at=self.now,
            reason=options.reason,
            insert=insert_many,
        )


# -- bulk statements -----------------------------------------------------------------------------
# Django's bulk_update builds one CASE WHEN per column over the whole batch, and bulk_create
# compiles every value through the query compiler: together most of an import's time. These
# send one plain statement per row through ``executemany`` (pipelined on PostgreSQL), the
# values prepared by each field as Django would save them.


def update_many(objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """``UPDATE … SET <names> WHERE pk = …`` for each object (``bulk_update`` without CASE)."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_many(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """``INSERT`` each object (``bulk_create`` for rows whose ids nobody needs back); ``COPY``
    on PostgreSQL."""
    if not objs:
        return
    if connection.vendor == "postgresql":
        bulk_sql.insert(model, objs)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    params = [
        [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


__all__ = [
    "FieldProblem",
    "RowResult",
    "WriteOptions",
    "insert_many",
    "update_many",
    "write_prospects",
]

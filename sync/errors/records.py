"""Sync errors as data: classify Salesforce's refusals, record them, clear them, explain them.

The engine calls :func:`record_sync_error` for every record Salesforce refuses and
:func:`resolve_errors` for the prospects of a batch that synced cleanly; the Sync Errors pages read the rows.
The mapping from Salesforce's ``errorCode`` to the guide's four categories lives here only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from prospects.models import Prospect, SyncStatus
from sync import bulk_sql
from sync.models import MEMBER_SOBJECT, Connector, ErrorCategory, SyncError

# -- categories ----------------------------------------------------------------------------------

# Exact codes first; then prefixes (INVALID_TYPE_ON_FIELD_IN_RECORD, INSUFFICIENT_ACCESS_OR_...).
CATEGORY_BY_CODE: dict[str, ErrorCategory] = {
    # The value does not fit the field's type, length or list.
    "STRING_TOO_LONG": ErrorCategory.DATA_FORMATTING,
    "JSON_PARSER_ERROR": ErrorCategory.DATA_FORMATTING,
    "NUMBER_OUTSIDE_VALID_RANGE": ErrorCategory.DATA_FORMATTING,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": ErrorCategory.DATA_FORMATTING,
    "INVALID_EMAIL_ADDRESS": ErrorCategory.DATA_FORMATTING,
    "MALFORMED_ID": ErrorCategory.DATA_FORMATTING,
    "INVALID_DATE": ErrorCategory.DATA_FORMATTING,
    "INVALID_DATETIME": ErrorCategory.DATA_FORMATTING,
    # The connector user may not see or write the record, field, owner or queue.
    "INVALID_CROSS_REFERENCE_KEY": ErrorCategory.ACCESS,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": ErrorCategory.ACCESS,
    "INACTIVE_OWNER_OR_USER": ErrorCategory.ACCESS,
    # The engine reports a linked record it can no longer read as ENTITY_IS_DELETED: deleted, or
    # hidden from the connector user by sharing — either way the connector user cannot reach it.
    "ENTITY_IS_DELETED": ErrorCategory.ACCESS,
    # "sObject type 'Lead' is not supported": the object is invisible to the connector user.
    "INVALID_TYPE": ErrorCategory.ACCESS,
    "NOT_FOUND": ErrorCategory.ACCESS,
    # Salesforce's own processes refused the record.
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": ErrorCategory.PROCESS_ALIGNMENT,
    "REQUIRED_FIELD_MISSING": ErrorCategory.PROCESS_ALIGNMENT,
    "DUPLICATES_DETECTED": ErrorCategory.PROCESS_ALIGNMENT,
    "DUPLICATE_VALUE": ErrorCategory.PROCESS_ALIGNMENT,
    "CANNOT_UPDATE_CONVERTED_LEAD": ErrorCategory.PROCESS_ALIGNMENT,
}
CATEGORY_BY_PREFIX: tuple[tuple[str, ErrorCategory], ...] = (
    ("INVALID_TYPE", ErrorCategory.DATA_FORMATTING),
    ("INSUFFICIENT_ACCESS", ErrorCategory.ACCESS),
    ("INVALID_FIELD", ErrorCategory.ACCESS),
)
STATE_COUNTRY = re.compile(r"state|country", re.IGNORECASE)


def categorize(error_code: str, message: str = "", fields: Sequence[str] = ()) -> ErrorCategory:
    """The guide's category for a Salesforce ``errorCode``; anything unknown is customization.

    FIELD_INTEGRITY_EXCEPTION is data formatting when it is about a state/country picklist (the
    guide's "your State field requires a two-letter code"), customization otherwise.
    """
    code = (error_code or "").strip().upper()
    if code in CATEGORY_BY_CODE:
        return CATEGORY_BY_CODE[code]
    for prefix, category in CATEGORY_BY_PREFIX:
        if code.startswith(prefix):
            return category
    if code == "FIELD_INTEGRITY_EXCEPTION" and (
        any(STATE_COUNTRY.search(f) for f in fields) or STATE_COUNTRY.search(message or "")
    ):
        return ErrorCategory.DATA_FORMATTING
    return ErrorCategory.CUSTOMIZATION


# -- recording -----------------------------------------------------------------------------------


def record_sync_error(
    *,
    connector: Connector | None,
    prospect: Prospect | None,
    direction: str,
    operation: str,
    sobject: str,
    record_id: str,
    error_code: str,
    message: str,
    fields: Sequence[str],
    value_sent: str,
    constraint: str = "",
    membership=None,
) -> SyncError:
    """Save one refusal: bump the prospect's open row for this code and field, or open one.

    1. Update the open row for (prospect, code, first field): attempts + 1, last seen now, the
       latest message, value and constraint.
    2. None: create it. Two workers racing here meet the partial unique constraint; the loser
       catches the IntegrityError and goes back to step 1.
    3. Mark the prospect's sync status as errored — unless the refusal is a campaign
       membership's (``membership`` given, object CampaignMember): its row is keyed on the
       membership, and the prospect itself may be synced fine.
    """
    fields = [f for f in fields if f]
    field = (fields[0] if fields else "")[:100]
    now = timezone.now()
    latest = {
        "connector": connector,
        "direction": direction,
        "operation": operation[:20],
        "sobject": sobject[:100],
        "record_id": (record_id or "")[:18],
        "message": message,
        "fields": fields,
        "value_sent": value_sent or "",
        "constraint": constraint,
        "last_seen_at": now,
    }
    row = None
    for _ in range(3):
        row = _bump_open_error(prospect, error_code, field, latest, membership)
        if row is not None:
            break
        try:
            with transaction.atomic():
                row = SyncError.objects.create(
                    prospect=prospect,
                    prospect_email=prospect.email if prospect else "",
                    campaign_membership=membership,
                    error_code=error_code,
                    field=field,
                    category=categorize(error_code, message, fields),
                    first_seen_at=now,
                    **latest,
                )
            break
        except IntegrityError:  # another worker opened it a moment ago: update theirs
            continue
    if prospect is not None and membership is None:
        Prospect.objects.filter(pk=prospect.pk).update(sync_status=SyncStatus.ERROR)
        prospect.sync_status = SyncStatus.ERROR
    return row


def _bump_open_error(
    prospect: Prospect | None, error_code: str, field: str, latest: dict, membership=None
) -> SyncError | None:
    if membership is not None:
        open_rows = SyncError.objects.open().filter(
            campaign_membership=membership, sobject=MEMBER_SOBJECT
        )
    elif prospect is None:  # no prospect to key on (inbound, deleted): every refusal is a row
        return None
    else:
        open_rows = (
            SyncError.objects.open().exclude(sobject=MEMBER_SOBJECT).filter(prospect=prospect)
        )
    open_rows = open_rows.filter(error_code=error_code, field=field)
    if not open_rows.update(attempts=F("attempts") + 1, **latest):
        return None
    return open_rows.first()


def resolve_errors(
    *,
    prospect_ids: Sequence[int],
    resolution: str = SyncError.Resolution.CLEAN_SYNC,
    at: dt.datetime | None = None,
) -> int:
    """Resolve every open error of these prospects in one statement (a batch that synced
    cleanly); return how many."""
    return (
        SyncError.objects.open()
        .filter(bulk_sql.any_of("prospect_id", prospect_ids))
        .exclude(sobject=MEMBER_SOBJECT)  # a membership's refusal clears with the membership
        .update(resolved_at=at or timezone.now(), resolution=resolution)
    )


def resolve_membership_errors(
    *,
    membership_ids: Sequence[int],
    resolution: str = SyncError.Resolution.CLEAN_SYNC,
    at: dt.datetime | None = None,
) -> int:
    """Resolve the open CampaignMember errors of these memberships (written cleanly since)."""
    return (
        SyncError.objects.open()
        .filter(campaign_membership_id__in=list(membership_ids), sobject=MEMBER_SOBJECT)
        .update(resolved_at=at or timezone.now(), resolution=resolution)
    )


# -- counts for badges ---------------------------------------------------------------------------

COUNT_CACHE_KEY = "sync:open-error-count"
COUNT_CACHE_SECONDS = 5


def open_error_count() -> int:
    """Open sync errors, for the navigation badge; cached a few seconds (one COUNT per 5 s)."""
    return cache.get_or_set(
        COUNT_CACHE_KEY, lambda: SyncError.objects.open().count(), COUNT_CACHE_SECONDS
    )


CATEGORY_CACHE_KEY = "sync:open-error-categories"


def open_counts_by_category(*, fresh: bool = False) -> dict[str, int]:
    """Open errors per category (every category present, zero when none).

    One GROUP BY on the (resolved_at, category) index, cached a few seconds like the badge:
    over a million rows it is the page's most expensive query, and tabs need not be exact to
    the second.
    """
    counts = None if fresh else cache.get(CATEGORY_CACHE_KEY)
    if counts is None:
        counts = dict.fromkeys(ErrorCategory.values, 0)
        rows = SyncError.objects.open().values_list("category").annotate(n=Count("pk")).order_by()
        counts.update(dict(rows))
        cache.set(CATEGORY_CACHE_KEY, counts, COUNT_CACHE_SECONDS)
    return counts


# -- root cause ----------------------------------------------------------------------------------

TEXT_TYPES = {"string", "textarea", "phone", "url", "email", "encryptedstring", "combobox"}
NUMBER_TYPES = {"double", "currency", "percent", "int", "long"}
MAX_LISTED_VALUES = 25


def describe_constraint(field_describe: dict | None, value: object) -> str:
    """The rule a value broke, in one sentence, from a describe field dict.

    e.g. "Customer_Comment__c allows 100 characters; this value has 143". Empty when describe
    is unknown; otherwise the field's most relevant rule even when the value seems to fit it.
    """
    if not field_describe:
        return ""
    name = field_describe.get("name") or "This field"
    kind = field_describe.get("type") or ""
    text = "" if value is None else str(value)
    if field_describe.get("updateable") is False and field_describe.get("createable") is False:
        return f"{name} is read-only for the connector user; Salesforce accepts no value for it."
    if field_describe.get("restrictedPicklist") or kind == "multipicklist":
        allowed = [
            p.get("value", "")
            for p in field_describe.get("picklistValues") or []
            if p.get("active", True)
        ]
        if allowed and field_describe.get("restrictedPicklist"):
            return _picklist_sentence(name, allowed, text, multi=kind == "multipicklist")
    if kind == "email" and text and not _looks_like_email(text):
        return f"{name} accepts only an email address (name@example.com); this value is not one."
    if kind in TEXT_TYPES and field_describe.get("length"):
        return _length_sentence(name, int(field_describe["length"]), text)
    if kind in NUMBER_TYPES:
        return _number_sentence(name, kind, field_describe, text)
    if kind == "boolean":
        return f"{name} is a checkbox: it accepts only true or false."
    if kind == "date":
        return f"{name} accepts only a date (YYYY-MM-DD)."
    if kind == "datetime":
        return f"{name} accepts only a date and time (YYYY-MM-DDThh:mm:ssZ)."
    if kind == "reference":
        targets = ", ".join(field_describe.get("referenceTo") or []) or "record"
        return f"{name} accepts only the id of a {targets} the connector user can see."
    if kind == "picklist":
        return _picklist_sentence(
            name, [p.get("value", "") for p in field_describe.get("picklistValues") or []], text
        )
    if field_describe.get("nillable") is False and not text:
        return f"{name} is required; this value is empty."
    return ""


def _length_sentence(name: str, length: int, text: str) -> str:
    if len(text) > length:
        return f"{name} allows {length} characters; this value has {len(text)}"
    return f"{name} allows {length} characters."


def _picklist_sentence(name: str, allowed: list[str], text: str, *, multi: bool = False) -> str:
    shown = ", ".join(allowed[:MAX_LISTED_VALUES])
    if len(allowed) > MAX_LISTED_VALUES:
        shown += f" and {len(allowed) - MAX_LISTED_VALUES} more"
    chosen = text.split(";") if multi else [text]
    wrong = [v for v in chosen if v and v not in allowed]
    tail = f"; {', '.join(repr(v) for v in wrong)} is not one of them" if wrong else ""
    return f"{name} accepts only: {shown}{tail}"


def _number_sentence(name: str, kind: str, field_describe: dict, text: str) -> str:
    if kind in ("int", "long"):
        digits = field_describe.get("digits") or field_describe.get("precision") or 0
        limit = f" of up to {digits} digits" if digits else ""
        return f"{name} accepts only whole numbers{limit}."
    precision = int(field_describe.get("precision") or 0)
    scale = int(field_describe.get("scale") or 0)
    if not precision:
        return f"{name} accepts only numbers."
    sentence = (
        f"{name} accepts numbers with up to {precision - scale} digits before the decimal point"
        f" and {scale} after"
    )
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"{sentence}; this value is not a number." if text else sentence + "."
    whole = len(str(abs(int(number)))) if number else 0
    if whole > precision - scale:
        return f"{sentence}; this value has {whole} before it."
    return sentence + "."


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _looks_like_email(text: str) -> bool:
    return bool(EMAIL_RE.match(text))


ADVICE_BY_CODE = {
    "DUPLICATES_DETECTED": "A duplicate rule blocks this record. Merge or link the existing "
    "Salesforce record, or let the connector user save duplicates (Setup → Duplicate Rules).",
    "DUPLICATE_VALUE": "A unique field already holds this value on another record: merge the "
    "records, or drop the field's uniqueness in Object Manager.",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "A validation rule refused the record. Ask your admin "
    "to adjust the rule (Object Manager → Validation Rules) or exempt the connector user.",
    "REQUIRED_FIELD_MISSING": "Salesforce requires a value here: give the field a default value, "
    "or map a prospect field to it in Field sync.",
    "CANNOT_UPDATE_CONVERTED_LEAD": "The lead was converted: link the prospect to the contact it "
    "became (a resync follows the conversion).",
    "ENTITY_IS_DELETED": "The linked record is deleted or hidden from the connector user: restore "
    "it from the Recycle Bin, or widen the connector user's sharing.",
    "INVALID_CROSS_REFERENCE_KEY": "The owner or queue is invisible to the connector user: add the "
    "connector user to the queue, or assign the prospect to an active user.",
    "INACTIVE_OWNER_OR_USER": "The assigned user's Salesforce user is inactive: assign the "
    "prospect to an active user (or a queue) and resync, or reactivate the user in Salesforce.",
    "INSUFFICIENT_ACCESS": "Give the connector user's profile or permission set access to this "
    "object, field or record (object permissions, field-level security, sharing).",
    "INVALID_FIELD": "The connector user cannot see or edit this field: grant field-level "
    "security on it, or stop syncing it in Field sync.",
    "FIELD_INTEGRITY_EXCEPTION": "With state and country picklists on, Salesforce accepts only "
    "the listed states and countries: add the value to the picklist, or correct it here.",
}


def fix_in_salesforce(field_describe: dict | None, value: object, error_code: str = "") -> str:
    """The guide's option 2: what a Salesforce admin would change so the value fits.

    Field-specific advice from describe (length, picklist, field security) comes first; else
    the advice for the error code; else a pointer to the message.
    """
    specific = _field_fix(field_describe, value) if field_describe else ""
    return (
        specific
        or _advice(error_code)
        or "Ask your Salesforce admin to review the field or rule named in the message."
    )


def _field_fix(field_describe: dict, value: object) -> str:
    name = field_describe.get("name") or "the field"
    kind = field_describe.get("type") or ""
    text = "" if value is None else str(value)
    if kind in TEXT_TYPES and field_describe.get("length") and len(text) > field_describe["length"]:
        return (
            f"In Salesforce Setup → Object Manager, edit {name} and raise its length to at least"
            f" {len(text)} (text fields hold up to 255; use a long text area beyond that)."
        )
    if field_describe.get("restrictedPicklist"):
        return (
            f"In Salesforce Setup, add {text!r} to the values of {name}, or untick"
            ' "Restrict picklist to the values defined in the value set".'
        )
    if field_describe.get("updateable") is False:
        return f"Give the connector user's profile edit access to {name} (field-level security)."
    return ""


def _advice(error_code: str) -> str:
    code = (error_code or "").upper()
    if code in ADVICE_BY_CODE:
        return ADVICE_BY_CODE[code]
    return next((text for prefix, text in ADVICE_BY_CODE.items() if code.startswith(prefix)), "")

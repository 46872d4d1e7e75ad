"""The rules every write path applies, each answered as Salesforce answers it.

``check_fields`` validates the fields a client sent (existence, field-level security, type,
length, picklist, email); ``check_record`` validates the merged record (required fields,
state/country integrity, validation rules). Duplicate rules, unique fields and references need
the database and live in ``sandbox/records.py``. The order follows Salesforce's: existence →
writability → type/format → length → picklist → required → integrity → validation rules.
"""

import functools
import re

from sandbox import ids, metadata, person
from sandbox.errors import ApiError
from sandbox.schema import Actor, FieldMeta, ObjectMeta
from sandbox.values import CONVERTED_TYPES, EMAIL_RE, BadValue, coerce, display

TEXT_TYPES = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "combobox",
    "encryptedstring",
}
JSON_TYPE_NAMES = {
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "boolean": "boolean",
}
ADDRESS_GROUPS: dict[str, list[str]] = {
    "Lead": [""],
    "Contact": ["Mailing"],
    "Account": ["Billing", "Shipping", "PersonMailing"],
}


# Per group: its State, Country, StateCode and CountryCode fields.
ADDRESS_FIELDS: dict[str, list[tuple[str, str, str, str]]] = {
    name: [(f"{p}State", f"{p}Country", f"{p}StateCode", f"{p}CountryCode") for p in prefixes]
    for name, prefixes in ADDRESS_GROUPS.items()
}


def invalid_field(obj: ObjectMeta, name: str) -> ApiError:
    return ApiError(
        "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}", 400, []
    )


def not_writable(names: list[str]) -> ApiError:
    return ApiError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {', '.join(names)}. Please check the security settings "
        "of this field and verify that it is read/write for your profile or permission set.",
        400,
        names,
    )


def resolve_fields(
    actor: Actor, obj: ObjectMeta, body: dict, *, creating: bool, ignore: tuple[str, ...] = ()
) -> list[tuple[FieldMeta, object]]:
    """Map the body's keys to fields, rejecting unknown, invisible and read-only ones."""
    resolved, read_only = [], []
    for key, value in body.items():
        if key == "attributes" or (ignore and key.lower() in ignore):
            continue
        fmeta, writable = actor.writable_field(obj, key, creating=creating)
        if fmeta is None:
            raise invalid_field(obj, key)
        if not writable:
            read_only.append(fmeta.name)
            continue
        resolved.append((fmeta, value))
    if read_only:
        raise not_writable(read_only)
    return resolved


def _json_error(fmeta: FieldMeta, value: object) -> ApiError:
    kind = (
        "START_OBJECT value {"
        if isinstance(value, dict)
        else ("START_ARRAY value [" if isinstance(value, list) else f"VALUE_STRING value {value}")
    )
    type_name = JSON_TYPE_NAMES.get(fmeta.type, "String")
    return ApiError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from {kind} or request may be missing a "
        f"required field at [line:1, column:{len(fmeta.name) + 4}]",
        400,
        None,
    )


def type_error(fmeta: FieldMeta, value: object) -> ApiError:
    return ApiError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{fmeta.label}: value not of required type: {display(value)}",
        400,
        [fmeta.name],
    )


def coerce_value(fmeta: FieldMeta, value: object, *, from_csv: bool = False) -> object:
    """The stored value, or the type error Salesforce gives for it."""
    if type(value) is str and fmeta.type not in CONVERTED_TYPES:
        return value or None  # what the general path below gives text: stored as sent
    if value is None or (isinstance(value, str) and value == "" and fmeta.type not in TEXT_TYPES):
        return None
    if isinstance(value, dict | list) and not from_csv:
        raise _json_error(fmeta, value)
    try:
        stored = coerce(fmeta.type, value)
    except BadValue as exc:
        if fmeta.type in JSON_TYPE_NAMES and not from_csv and isinstance(value, str):
            raise _json_error(fmeta, value) from exc
        raise type_error(fmeta, value) from exc
    if stored == "" and fmeta.type in TEXT_TYPES:
        return None
    return stored


def check_value(obj: ObjectMeta, fmeta: FieldMeta, value: object) -> None:
    """Format, length and picklist rules for one non-null stored value."""
    if fmeta.type in ("reference", "id"):
        return
    if fmeta.type == "email" and not EMAIL_RE.match(str(value)):
        raise ApiError(
            "INVALID_EMAIL_ADDRESS",
            f"{fmeta.label}: invalid email address: {value}",
            400,
            [fmeta.name],
        )
    if fmeta.type in TEXT_TYPES and fmeta.length and len(str(value)) > fmeta.length:
        raise ApiError(
            "STRING_TOO_LONG",
            f"{fmeta.label}: data value too large: {value} (max length={fmeta.length})",
            400,
            [fmeta.name],
        )
    if fmeta.restricted_picklist:
        allowed = fmeta.values
        chosen = str(value).split(";") if fmeta.type == "multipicklist" else [str(value)]
        for item in chosen:
            if item not in allowed:
                raise ApiError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fmeta.label}: bad value for restricted picklist field: {item}",
                    400,
                    [fmeta.name],
                )


def check_reference_format(fmeta: FieldMeta, value: str, schema_prefixes: dict) -> str:
    """The 18-char id of a reference value, or MALFORMED_ID / FIELD_INTEGRITY_EXCEPTION."""
    record_id = ids.normalize(value)
    label = fmeta.label.removesuffix(" ID")
    if record_id is None:
        raise ApiError(
            "MALFORMED_ID", f"{label} ID: id value of incorrect type: {value}", 400, [fmeta.name]
        )
    target = schema_prefixes.get(record_id[:3])
    if target is None or target.name not in fmeta.reference_to:
        raise ApiError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"{fmeta.label}: id value of incorrect type: {value}",
            400,
            [fmeta.name],
        )
    return record_id


def check_required(obj: ObjectMeta, merged: dict, *, creating: bool, touched: set[str]) -> None:
    """REQUIRED_FIELD_MISSING for createable, non-nillable, non-defaulted fields left empty."""
    missing = [
        name
        for name in obj.required
        if (creating or name in touched) and merged.get(name) in (None, "")
    ]
    if missing:
        raise ApiError(
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            400,
            missing,
        )


@functools.lru_cache(maxsize=1024)
def _country_code(value: str) -> str | None:
    text = value.strip()
    for code, name in metadata.COUNTRIES.items():
        if text.upper() == code or text.lower() == name.lower():
            return code
    return None


@functools.lru_cache(maxsize=4096)
def _state_code(country: str, value: str) -> str | None:
    text = value.strip()
    for code, name in metadata.STATES.get(country, {}).items():
        if text.upper() == code or text.lower() == name.lower():
            return code
    return None


def _integrity(obj: ObjectMeta, field_name: str, message: str) -> ApiError:
    fmeta = obj.field(field_name)
    return ApiError(
        "FIELD_INTEGRITY_EXCEPTION", message.format(label=fmeta.label), 400, [fmeta.name]
    )


def apply_state_country(obj: ObjectMeta, merged: dict, touched: set[str]) -> None:
    """State/country picklists: validate State/Country and fill StateCode/CountryCode."""
    for state_f, country_f, scode_f, ccode_f in ADDRESS_FIELDS.get(obj.name, []):
        if touched.isdisjoint((state_f, country_f, scode_f, ccode_f)):
            continue
        _fill_from_codes(merged, state_f, country_f, scode_f, ccode_f)
        country, state = merged.get(country_f), merged.get(state_f)
        ccode = _country_code(country) if country else None
        if country and ccode is None:
            raise _integrity(
                obj,
                country_f,
                "There's a problem with this country, even though it "
                "may appear correct. Please select a country/territory from the list "
                "of valid countries.: {label}",
            )
        if state and not country:
            raise _integrity(
                obj,
                state_f,
                "A country/territory must be specified before "
                "specifying a state value for field: {label}",
            )
        scode = _state_code(ccode, state) if state and ccode in metadata.STATES else None
        if state and ccode in metadata.STATES and scode is None:
            raise _integrity(
                obj,
                state_f,
                "There's a problem with this state, even though it may "
                "appear correct. Please select a state from the list of valid "
                "states.: {label}",
            )
        merged[ccode_f] = ccode
        merged[country_f] = metadata.COUNTRIES[ccode] if ccode else None
        merged[scode_f] = scode
        if scode:
            merged[state_f] = metadata.STATES[ccode][scode]


def _fill_from_codes(
    merged: dict, state_f: str, country_f: str, scode_f: str, ccode_f: str
) -> None:
    if merged.get(ccode_f) and not merged.get(country_f):
        merged[country_f] = merged[ccode_f]
    if merged.get(scode_f) and not merged.get(state_f):
        merged[state_f] = merged[scode_f]


def _blank(value: object) -> bool:
    return value is None or value == "" or value is False


def _condition_holds(condition: dict, merged: dict) -> bool:
    value = merged.get(condition.get("field", ""))
    op, target = condition.get("op"), condition.get("value")
    if op == "blank":
        return _blank(value)
    if op == "not_blank":
        return not _blank(value)
    if op == "equals":
        return display(value) == display(target) if value is not None else target is None
    if op == "not_equals":
        return display(value) != display(target) if value is not None else target is not None
    if op == "not_matching":
        return not _blank(value) and re.fullmatch(str(target), display(value)) is None
    if op == "longer_than":
        return value is not None and len(display(value)) > int(target)
    return False


def check_validation_rules(obj: ObjectMeta, merged: dict, *, creating: bool) -> None:
    """FIELD_CUSTOM_VALIDATION_EXCEPTION for the first active rule whose conditions hold."""
    for rule in obj.validation_rules:
        if (creating and not rule.on_create) or (not creating and not rule.on_update):
            continue
        results = [_condition_holds(c, merged) for c in rule.conditions or []]
        fired = all(results) if rule.match == "all" else any(results)
        if results and fired:
            raise ApiError(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                rule.error_message,
                400,
                [rule.error_field] if rule.error_field else [],
            )


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def check_trigger_rules(obj: ObjectMeta, merged: dict, *, creating: bool) -> None:
    """CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY for the first active trigger rule that fires.

    Worded as Salesforce words an unhandled exception in a before trigger [OBS: captures such
    as "Audit_Trigger: execution of BeforeInsert\\n\\ncaused by: System.NullPointerException: …
    \\n\\nTrigger.Audit_Trigger: line 3, column 1", fields empty].
    """
    for rule in obj.trigger_rules:
        if (creating and not rule.on_create) or (not creating and not rule.on_update):
            continue
        results = [_condition_holds(c, merged) for c in rule.conditions or []]
        if not results or not (all(results) if rule.match == "all" else any(results)):
            continue
        event = "BeforeInsert" if creating else "BeforeUpdate"
        try:
            detail = rule.exception_message.format_map(
                _Blank({k: display(v) for k, v in merged.items() if v is not None})
            )
        except (ValueError, IndexError, AttributeError):  # stray braces typed in the admin
            detail = rule.exception_message
        raise ApiError(
            "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
            f"{rule.name}: execution of {event}\n\ncaused by: {rule.exception_type}: {detail}"
            f"\n\nTrigger.{rule.name}: line {rule.line}, column 1",
            400,
            [],
        )


def derive_fields(obj: ObjectMeta, merged: dict) -> None:
    """Fields Salesforce computes: person Name, opportunity IsClosed/IsWon."""
    if obj.name in ("Lead", "Contact", "User"):
        person.derive_name(merged)
    if obj.name == "Opportunity" and merged.get("StageName"):
        merged["IsClosed"] = merged["StageName"].startswith("Closed")
        merged["IsWon"] = merged["StageName"] == "Closed Won"


def apply_defaults(obj: ObjectMeta, merged: dict) -> None:
    """Defaulted-on-create values the client left out."""
    for name, value in obj.defaults:
        if merged.get(name) is None:
            merged[name] = value
    if obj.name == "CampaignMember" and not merged.get("Status"):
        merged["Status"] = "Sent"

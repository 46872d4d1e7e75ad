"""Converting values between a prospect's fields and Salesforce's JSON, and comparing them.

Both sides are brought to one *normal form* before any comparison: ``None`` for every kind of
blank, ``str`` for text, ``Decimal`` for numbers, ``bool``, ISO strings for dates — so "" and
null, 5 and 5.0, never look like a change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from prospects.models import CUSTOM_PREFIX, CustomField, Prospect

_NUMERIC_SF_TYPES = {"double", "currency", "percent", "int", "long"}


def normal(value: Any) -> Any:
    """The comparable form of a value from either side."""
    kind = type(value)
    if kind is str:  # most values, by far: no isinstance chain
        value = value.strip()
        return value or None
    if value is None or kind is bool:
        return value
    if kind is int:  # the next most common: without str() and the isinstance chain
        return Decimal(value).normalize()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value)).normalize()
        except InvalidOperation:
            return None
        return number
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(v) for v in value) or None
    return str(value)


def plain_attribute(field: str) -> str | None:
    """The attribute :func:`read_prospect` reads as it is for ``field`` (``None`` for the
    fields it reads another way), so a loop over many prospects can read it directly."""
    if field in ("campaign", "assigned_user") or field.startswith(CUSTOM_PREFIX):
        return None
    return field


def read_prospect(prospect: Prospect, field: str) -> Any:
    """The value of a prospect field (or ``custom:<api_name>``) in normal form."""
    if field == "campaign":
        return normal(prospect.campaign.name if prospect.campaign_id else None)
    if field == "assigned_user":
        return normal(prospect.assigned_user_id)
    return normal(prospect.get_field(field))


def write_prospect(
    prospect: Prospect,
    field: str,
    value: Any,
    *,
    definitions: Mapping[str, CustomField] | None = None,
) -> None:
    """Set a prospect field from a Salesforce value (``Prospect.set_field`` coerces and caps
    it); a value the field cannot hold is skipped, not applied half-way."""
    try:
        prospect.set_field(field, value, definitions=definitions)
    except (ValidationError, ValueError, TypeError):
        return


def to_salesforce(value: Any, sf_field: dict | None = None) -> Any:
    """A normal-form value as Salesforce's JSON wants it (numbers as numbers, blanks as null)."""
    if value is None:
        return None
    field_type = sf_field.get("type") if sf_field else None
    if type(value) is str:  # most values: one look at the field's type
        if field_type in _NUMERIC_SF_TYPES:
            try:
                return float(value)
            except ValueError:
                return value
        return bool(value) if field_type == "boolean" else value
    if isinstance(value, Decimal):
        if field_type in {"int", "long"}:
            return int(value)
        return float(value) if value != value.to_integral() else int(value)
    if field_type in _NUMERIC_SF_TYPES and isinstance(value, str):  # a str subclass
        try:
            return float(value)
        except ValueError:
            return value
    if field_type == "boolean":
        return bool(value)
    return value


def parse_sf_datetime(value: str | None) -> dt.datetime | None:
    """Salesforce writes ``2026-11-27T10:00:00.000+0000``; Python wants ``+00:00``."""
    if not value:
        return None
    if len(value) >= 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    return parse_datetime(value)

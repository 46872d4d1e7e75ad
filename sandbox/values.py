"""Field values: parse what clients send, format what Salesforce returns.

Datetimes are stored and returned as ``2024-01-31T12:00:00.000+0000`` (UTC); that form sorts
as text, so stored values compare correctly without parsing.
"""

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

UTC = dt.UTC
DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


class BadValue(ValueError):
    """A value that does not fit its field's type."""


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


# A bulk job writes one stamp on thousands of rows and reads the same few values back: both
# conversions are pure, and were a tenth of the bulk worker's CPU.
@functools.lru_cache(maxsize=4096)
def format_datetime(value: dt.datetime) -> str:
    value = value.astimezone(UTC)
    if value.year >= 1000:  # the same text, faster (%Y does not pad a year below 1000)
        return value.isoformat(timespec="milliseconds")[:23] + "+0000"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Parse any datetime form Salesforce accepts (and its own output form)."""
    if not isinstance(text, str):
        raise BadValue(text)
    return _parse_datetime(text)


@functools.lru_cache(maxsize=65536)
def _parse_datetime(text: str) -> dt.datetime:
    match = DATETIME_RE.match(text.strip())
    if not match:
        raise BadValue(text)
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        value = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((frac or "0").ljust(6, "0")[:6]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise BadValue(text) from exc
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value


def parse_date(text: object) -> dt.date:
    if not isinstance(text, str):
        raise BadValue(text)
    text = text.strip()
    if DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise BadValue(text) from exc
    return parse_datetime(text).date()


def _number(value: object, integral: bool) -> int | float:
    if isinstance(value, bool):
        raise BadValue(value)
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 15:
            return int(text)  # below 2**53: what the general path gives, integral or not
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise BadValue(value) from exc
        if not number.is_finite():
            raise BadValue(value)
        number = float(number)
    else:
        raise BadValue(value)
    if integral:
        if float(number) != int(number):
            raise BadValue(value)
        return int(number)
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise BadValue(value)


def _time(value: object) -> str:
    match = TIME_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise BadValue(value)
    hour, minute, second, milli = match.groups()
    return f"{hour}:{minute}:{second or '00'}.{(milli or '0').ljust(3, '0')}Z"


# The types ``coerce`` converts; any other keeps a string as it is.
CONVERTED_TYPES = frozenset(
    {"int", "double", "currency", "percent", "boolean", "date", "datetime", "time"}
)


def coerce(type_: str, value: object) -> object:
    """The stored form of a non-null value for a field type; raises ``BadValue``."""
    if type_ in ("int",):
        return _number(value, True)
    if type_ in ("double", "currency", "percent"):
        return _number(value, False)
    if type_ == "boolean":
        return _boolean(value)
    if type_ == "date":
        return parse_date(value).isoformat()
    if type_ == "datetime":
        return format_datetime(parse_datetime(value))
    if type_ == "time":
        return _time(value)
    if isinstance(value, bool | int | float) and type_ not in ("reference", "id"):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str):
        raise BadValue(value)
    return value


def display(value: object) -> str:
    """A value as Salesforce echoes it inside error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

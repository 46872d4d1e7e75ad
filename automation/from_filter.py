"""The prospect list's filter as criteria: "Save as dynamic list" keeps what the marketer sees.

Every parameter of ``prospects.filters.ProspectFilter`` (and the account filters crm adds to it)
maps to conditions the list recomputes in SQL; a parameter with no mapping is reported, never
silently dropped.
"""

from __future__ import annotations

import datetime

from django.http import QueryDict

# The prospect list's search: each word (at most five, as ``ProspectQuerySet.search``) in the
# email, first name, last name or company.
from prospects.models.prospect import SEARCH_FIELDS

ACCOUNT_PARAMS = {
    "account_name": ("account:name", "contains"),
    "account_industry": ("account:industry", "eq"),
    "account_country": ("account:billing_country", "eq"),
    "account_employees_min": ("account:employees", "gte"),
}
IGNORED = {"page", "sort", "per_page", "querystring", "scope"}


def criteria_from_filter(params: QueryDict) -> tuple[dict, list[str]]:
    """(criteria, names of parameters that could not be kept)."""
    conditions: list[dict] = []
    unknown: list[str] = []
    for name in params:
        value = params.get(name, "").strip()
        if not value or name in IGNORED:
            continue
        mapped = _one(name, value)
        if mapped is None:
            unknown.append(name)
        else:
            conditions.extend(mapped)
    return {"match": "all", "conditions": conditions}, unknown


def _one(name: str, value: str) -> list[dict] | None:
    if name == "q":
        return [
            {
                "match": "any",
                "conditions": [
                    {"field": f, "op": "contains", "value": word} for f in SEARCH_FIELDS
                ],
            }
            for word in value.split()[:5]
        ]
    if name in ("assigned_user", "crm_status"):
        return [
            {
                "field": name,
                "op": "eq",
                "value": int(value) if name == "assigned_user" and value.isdigit() else value,
            }
        ]
    if name in ("score_min", "score_max"):
        return _number("score", "gte" if name == "score_min" else "lte", value)
    if name == "created_at_after":
        return _day(
            value, lambda d: {"field": "created_at", "op": "on_or_after", "value": d.isoformat()}
        )
    if name == "created_at_before":
        # The filter's "to" day is included: before the next day.
        return _day(
            value,
            lambda d: {
                "field": "created_at",
                "op": "before",
                "value": (d + datetime.timedelta(days=1)).isoformat(),
            },
        )
    if name in ACCOUNT_PARAMS:
        field, op = ACCOUNT_PARAMS[name]
        if op == "gte":
            return _number(field, op, value)
        return [{"field": field, "op": op, "value": value}]
    return None


def _number(field: str, op: str, value: str) -> list[dict] | None:
    try:
        return [{"field": field, "op": op, "value": int(float(value))}]
    except ValueError:
        return None


def _day(value: str, build) -> list[dict] | None:
    try:
        return [build(datetime.date.fromisoformat(value))]
    except ValueError:
        return None

"""The managed package's fields (``pi__`` namespace) as the org describes them.

Names are found in describe rather than hard-coded, so an org whose package spells a field
differently still works: matching is case-insensitive on the API name.
"""

from __future__ import annotations

from sync.engine.rules import Change
from sync.engine.values import parse_sf_datetime
from sync.salesforce import Client

NAMESPACE = "pi__"
# Our name -> candidate API names in the package (first one present wins).
# On a person account (Account) the package's contact fields end in ``__pc``.
FIELDS = {
    ours: [f"pi__{name}__c", f"pi__{name}__pc"]
    for ours, name in {
        "score": "score",
        "grade": "grade",
        "campaign": "campaign",
        "url": "url",
        "created_date": "created_date",
        "last_activity": "last_activity",
        "first_touch_url": "first_touch_url",
        "conversion_date": "conversion_date",
    }.items()
}


def find_field(fields: dict[str, dict], candidates: list[str]) -> str | None:
    lowered = {name.lower(): name for name in fields}
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


# The package's external id, which every create upserts on (the prospect's sync key).
EXTERNAL_ID = {
    "Lead": "pi__Pardot_Prospect_Id__c",
    "Contact": "pi__Pardot_Prospect_Id__c",
    "Account": "pi__Pardot_Prospect_Id__pc",
}


def external_id_field(client: Client, sobject: str) -> str | None:
    """The package's external-id field on ``sobject`` as the connector user may write it
    (creates upsert on it: no duplicates), or None when it is missing, hidden or read-only."""
    fields = client.fields_by_name(sobject)
    package = [
        f["name"]
        for f in fields.values()
        if f.get("externalId") and f.get("createable") and f["name"].lower().startswith(NAMESPACE)
    ]
    return sorted(package)[0] if package else None


def package_values(client: Client, sobject: str, *, prospect, portal_url: str = "") -> dict:
    """The package fields Leadbridge fills on every record it writes (only those that exist)."""
    names = _writable_package_fields(client, sobject)
    wanted = {
        "url": f"{portal_url.rstrip('/')}{prospect.get_absolute_url()}" if portal_url else None,
        "created_date": prospect.created_at.isoformat() if prospect.created_at else None,
        "last_activity": prospect.last_activity_at.isoformat()
        if prospect.last_activity_at
        else None,
    }
    return {
        names[ours]: value for ours, value in wanted.items() if value is not None and ours in names
    }


def last_activity_change(client: Client, sobject: str, target) -> list[Change]:
    """The prospect's last activity, when it is newer than what the record holds: the one
    package field that moves after the create (score and grade move through their rules)."""
    name = _writable_package_fields(client, sobject).get("last_activity")
    ours = target.prospect.last_activity_at
    if not name or ours is None or name not in (target.record or {}):
        return []
    theirs = parse_sf_datetime(target.record.get(name))
    # Salesforce keeps milliseconds: compare at that precision, or every push would resend it.
    if theirs is not None and theirs >= ours.replace(microsecond=ours.microsecond // 1000 * 1000):
        return []
    return [
        Change(
            prospect_field="last_activity_at",
            sf_field=name,
            old=theirs.isoformat() if theirs else None,
            new=ours.isoformat(),
            to_salesforce=True,
            rule="leadbridge",
        )
    ]


def read_fields(client: Client, sobject: str) -> set[str]:
    """Package fields a lookup reads beside the mapped ones (to compare before writing)."""
    name = _writable_package_fields(client, sobject).get("last_activity")
    return {name} if name else set()


def _writable_package_fields(client: Client, sobject: str) -> dict[str, str]:
    """Our name -> the org's updateable package field, worked out once per describe."""
    fields = client.fields_by_name(sobject)
    cache = client.memo.setdefault("package_fields", {})
    cached = cache.get(sobject)
    if cached is None or cached[0] is not fields:
        found = {ours: find_field(fields, candidates) for ours, candidates in FIELDS.items()}
        names = {
            ours: name for ours, name in found.items() if name and fields[name].get("updateable")
        }
        cached = cache[sobject] = (fields, names)
    return cached[1]

"""Describe results, cached in the database per connector and object.

Describe is what the connector user sees: which fields exist, their types and lengths, and
whether *this user* may create or update them. Web and worker processes share the cache
(``SObjectDescribe`` rows); verification refreshes it (``refresh_describes``).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sync.models import Connector, SObjectDescribe
from sync.salesforce import Client, SalesforceError

# Objects the mapping pages and the engine describe.
SYNCED_OBJECTS = ("Lead", "Contact")
MAX_AGE = timedelta(hours=24)
# The engine trusts a cached describe this long (verification refreshes it on this cadence);
# a field lost in between is refused by Salesforce and shows as a Sync Error, as in Pardot.
ENGINE_MAX_AGE = timedelta(minutes=15)
# Salesforce's answer when an object is invisible to the user.
MISSING_CODES = {"NOT_FOUND", "INVALID_TYPE", "HTTP_404"}


def get_describe(
    *, connector: Connector, sobject: str, client: Client | None = None, refresh: bool = False
) -> dict | None:
    """The describe of ``sobject``: from the cache unless stale or ``refresh``; ``None`` when the
    connector user cannot see the object. Fetches (needs ``client`` or builds one) when missing.
    """
    if not refresh:
        row = SObjectDescribe.objects.filter(connector=connector, sobject=sobject).first()
        if row is not None and timezone.now() - row.fetched_at < MAX_AGE:
            return row.data or None
    client = client or Client.for_connector(connector)
    return _fetch_and_store(connector=connector, sobject=sobject, client=client)


def cached_describe(*, connector: Connector, sobject: str) -> dict | None:
    """The cached describe only (never calls Salesforce); ``None`` if none is cached."""
    row = SObjectDescribe.objects.filter(connector=connector, sobject=sobject).first()
    return (row.data or None) if row else None


def cached_describes(*, connector: Connector, sobjects=SYNCED_OBJECTS) -> dict[str, dict | None]:
    rows = SObjectDescribe.objects.filter(connector=connector, sobject__in=sobjects)
    found = {row.sobject: (row.data or None) for row in rows}
    return {name: found.get(name) for name in sobjects if name in found}


def _fetch_and_store(*, connector: Connector, sobject: str, client: Client) -> dict | None:
    try:
        data = client.describe(sobject, refresh=True)
    except SalesforceError as exc:
        if exc.code not in MISSING_CODES and exc.status not in (403, 404):
            raise
        data = {}
    SObjectDescribe.objects.update_or_create(
        connector=connector,
        sobject=sobject,
        defaults={"data": data, "fetched_at": timezone.now()},
    )
    return data or None


def refresh_describes(
    *, connector: Connector, client: Client, sobjects=SYNCED_OBJECTS
) -> dict[str, dict | None]:
    """Fetch and cache fresh describes (verification calls this); raises SalesforceError."""
    return {
        name: _fetch_and_store(connector=connector, sobject=name, client=client)
        for name in sobjects
    }


def prime_client(client: Client, connector: Connector) -> None:
    """Give ``client`` the connector's recent describes, so a push describes nothing."""
    fresh = (
        SObjectDescribe.objects.filter(
            connector=connector, fetched_at__gte=timezone.now() - ENGINE_MAX_AGE
        )
        .exclude(data={})
        # A worker's client pushes batch after batch: what it holds is not read (and decoded,
        # a few hundred kB of JSON) again for every batch.
        .exclude(sobject__in=client.described())
    )
    client.prime_describes({row.sobject: row.data for row in fresh})


def store_client_describes(client: Client, connector: Connector) -> None:
    """Keep the describes ``client`` fetched for the next job (web and workers share them)."""
    for sobject, data in client.fetched_describes.items():
        SObjectDescribe.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={"data": data, "fetched_at": timezone.now()},
        )
    client.fetched_describes.clear()


def field_describe(describe: dict | None, name: str) -> dict | None:
    """One field of a describe, by case-insensitive API name."""
    lowered = name.lower()
    for item in (describe or {}).get("fields", []):
        if item["name"].lower() == lowered:
            return item
    return None


def picklist_values(describe: dict | None, name: str) -> list[str]:
    """Active picklist values of a field (for custom fields' predefined values)."""
    item = field_describe(describe, name) or {}
    return [v["value"] for v in item.get("picklistValues", []) if v.get("active", True)]

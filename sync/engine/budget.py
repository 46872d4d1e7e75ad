"""The API budget governor: the connector stops before it uses more than its share of the org's
daily API allocation, and resumes when Salesforce's rolling 24-hour window frees calls.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from sync.models import Connector
from sync.salesforce import Client, SalesforceError

log = logging.getLogger(__name__)

RECHECK = dt.timedelta(minutes=15)


def record_usage(connector: Connector, client: Client) -> None:
    """Store the latest ``Sforce-Limit-Info`` figures the client saw."""
    usage = client.api_usage
    if usage is None:
        return
    used, total = usage
    Connector.objects.filter(pk=connector.pk).update(
        api_max=total, api_remaining=max(0, total - used), api_checked_at=timezone.now()
    )
    connector.api_max, connector.api_remaining = total, max(0, total - used)


def refresh_from_limits(connector: Connector, client: Client) -> None:
    daily = client.limits().get("DailyApiRequests", {})
    if "Max" in daily:
        connector.api_max, connector.api_remaining = daily["Max"], daily["Remaining"]
        Connector.objects.filter(pk=connector.pk).update(
            api_max=daily["Max"], api_remaining=daily["Remaining"], api_checked_at=timezone.now()
        )


def refresh_if_stale(connector: Connector, client: Client) -> None:
    """Read ``/limits`` when the figures are unknown or older than the recheck period."""
    checked = connector.api_checked_at
    if checked is None or timezone.now() - checked > RECHECK:
        try:
            refresh_from_limits(connector, client)
        except SalesforceError as exc:  # unknown figures: the next call's header tells
            log.info("could not read /limits: %s", exc.code)


def allowance(connector: Connector) -> int | None:
    """Calls the connector may still make today; ``None`` when the org's figures are unknown."""
    if not connector.api_max or connector.api_remaining is None:
        return None
    used = connector.api_max - connector.api_remaining
    return int(connector.api_max * connector.api_share / 100) - used


def over_budget(connector: Connector) -> bool:
    """True (and the connector paused until a recheck) when its share is spent."""
    left = allowance(connector)
    if left is None or left > 0:
        return False
    until = timezone.now() + RECHECK
    Connector.objects.filter(pk=connector.pk).update(paused_until=until)
    connector.paused_until = until
    return True


def may_run(connector: Connector, client: Client) -> bool:
    """Whether the governor lets the connector call Salesforce now."""
    if connector.paused_until and connector.paused_until > timezone.now():
        return False
    if connector.paused_until:
        try:
            refresh_from_limits(connector, client)
        except SalesforceError as exc:
            log.info("could not read /limits: %s", exc.code)
            return False
        if over_budget(connector):
            return False
        Connector.objects.filter(pk=connector.pk).update(paused_until=None)
        connector.paused_until = None
    return True

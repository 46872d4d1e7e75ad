"""Salesforce queues a prospect can be assigned to, read from the org by the connector."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from prospects.models import CrmQueue
from sync.salesforce import Client


def refresh_queues(client: Client) -> int:
    """Mirror the org's lead and contact queues into ``CrmQueue``; returns how many are active.

    A queue that is gone (or no longer takes leads or contacts) stays, inactive, so prospects
    assigned to it keep the link and the page can say so; pushes then fall back to the user.
    """
    groups = client.query_all("SELECT Id, Name, DeveloperName FROM Group WHERE Type = 'Queue'")
    if "QueueSobject" in {o["name"] for o in client.describe_global()["sobjects"]}:
        takes = {
            row["QueueId"]
            for row in client.query_all(
                "SELECT QueueId FROM QueueSobject WHERE SobjectType IN ('Lead', 'Contact')"
            )
        }
        groups = [g for g in groups if g["Id"] in takes]
    now = timezone.now()
    with transaction.atomic():
        for group in groups:
            CrmQueue.objects.update_or_create(
                sf_id=group["Id"],
                defaults={
                    "name": group.get("Name") or group["Id"],
                    "developer_name": group.get("DeveloperName") or "",
                    "is_active": True,
                    "refreshed_at": now,
                },
            )
        CrmQueue.objects.exclude(sf_id__in=[g["Id"] for g in groups]).update(
            is_active=False, refreshed_at=now
        )
    return len(groups)

"""RQ jobs of the campaign pages: adding a large prospect selection to a campaign."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import QueryDict

from core.models import Task
from crm.memberships import CHUNK, CampaignError, add_to_campaign
from crm.models import SalesforceCampaign
from prospects.filters import ProspectFilter
from prospects.models import Prospect

QUEUE = "imports"  # long jobs' queue: never stalls syncing
INLINE_LIMIT = 1000  # up to this many prospects are added in the request itself


def matching_prospect_ids(querystring: str) -> list[int]:
    """The prospects the list's filter matches (the "whole filter" scope)."""
    prospects = ProspectFilter(QueryDict(querystring), queryset=Prospect.objects.active()).qs
    return list(prospects.order_by("pk").values_list("pk", flat=True))


def add_to_campaign_job(
    task_id: int,
    campaign_id: int,
    status: str,
    prospect_ids: list[int] | None = None,
    querystring: str = "",
) -> None:
    """Add the selection (or the filter's prospects) to a campaign, a chunk at a time."""
    task = Task.objects.get(pk=task_id)
    if not task.start():
        return
    try:
        ids = prospect_ids if prospect_ids is not None else matching_prospect_ids(querystring)
        task.set_total(len(ids))
        campaign = SalesforceCampaign.objects.get(pk=campaign_id)
        actor = get_user_model().objects.filter(pk=task.created_by_id).first()
        touched = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            touched += add_to_campaign(chunk, campaign, status, actor=actor)
            task.advance(done=len(chunk))
        task.finish(
            f"{touched:,} prospect{'s'[: touched != 1]} added to “{campaign.name}” or re-statused.",
            result={"touched": touched},
        )
    except CampaignError as exc:
        task.finish(str(exc), failed=True)
    except BaseException:
        task.finish(
            "Adding to the campaign stopped on an unexpected error; try again.", failed=True
        )
        raise

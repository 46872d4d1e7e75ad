"""The API's writes, all through the shared write core (``intake.writes.write_prospects``):
only the fields sent are saved, under row locks, with the key's user named in the history, an
"API" activity, and one bulk sync request per call."""

from collections.abc import Mapping, Sequence
from typing import Any

from intake.writes import RowResult, WriteOptions, write_prospects
from prospects.models import ActivityType, SyncReason

ACTIVITY_TITLE = "API"


def write_rows(
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    user,
    create: bool,
    assign_user=None,
    assign_queue=None,
    campaign=None,
    salesforce_campaign=None,
    campaign_member_status: str = "",
) -> list[RowResult]:
    """Write ``rows`` ((index, values), values by ``Prospect.set_field`` name plus the match
    keys ``prospect_id`` and ``crm_id``) as ``user``: update the match, or create one when
    nothing matches and ``create`` is set (assigned and in ``campaign`` as given); every row
    written joins ``salesforce_campaign`` as ``campaign_member_status`` when one is given."""
    return write_prospects(
        rows,
        options=WriteOptions(
            overwrite=True,
            create=create,
            assign_user=assign_user,
            assign_queue=assign_queue,
            campaign=campaign,
            validate_values=True,
            reason=SyncReason.API,
            operation="api",
            activity=ActivityType.API,
            activity_title=ACTIVITY_TITLE,
            activity_on_unchanged=False,
            salesforce_campaign=salesforce_campaign,
            campaign_member_status=campaign_member_status,
        ),
        actor=user,
    )

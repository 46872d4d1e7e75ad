"""The CRM mirror's models, one module per area; import them from ``crm.models``."""

from crm.models.campaigns import (
    CampaignMembership,
    CampaignMemberStatus,
    MembershipState,
    SalesforceCampaign,
)

__all__ = [
    "CampaignMemberStatus",
    "CampaignMembership",
    "MembershipState",
    "SalesforceCampaign",
]

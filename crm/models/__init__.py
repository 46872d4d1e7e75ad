"""The crm app's models: what Salesforce owns and Leadbridge mirrors, one module per area —
campaigns and their members (``campaigns.py``), accounts (``accounts.py``), opportunities and their contact roles
(``opportunities.py``) and Salesforce users,
their profiles and the profile → portal role mapping (``users.py``). Import them from
``crm.models``."""

from crm.models.accounts import Account, AccountSettings
from crm.models.campaigns import (
    CampaignMembership,
    CampaignMemberStatus,
    MembershipState,
    SalesforceCampaign,
)
from crm.models.custom_objects import (
    CustomObjectDefinition,
    CustomObjectRecord,
    CustomObjectScan,
    LookupTarget,
)
from crm.models.opportunities import (
    ContactRoleScan,
    Opportunity,
    OpportunityContactRole,
    OpportunityEvent,
)
from crm.models.users import PortalRole, SalesforceProfile, SalesforceUser

__all__ = [
    "Account",
    "AccountSettings",
    "CampaignMemberStatus",
    "ContactRoleScan",
    "CustomObjectDefinition",
    "CustomObjectRecord",
    "CustomObjectScan",
    "LookupTarget",
    "CampaignMembership",
    "MembershipState",
    "Opportunity",
    "OpportunityContactRole",
    "OpportunityEvent",
    "PortalRole",
    "SalesforceCampaign",
    "SalesforceProfile",
    "SalesforceUser",
]

"""crm filters, one module per area: campaigns and their members, accounts and users."""

from crm.filters.accounts import (  # noqa: F401
    AccountFilter,
    SalesforceUserFilter,
    account_filters,
)
from crm.filters.campaigns import (  # noqa: F401
    CampaignFilter,
    MemberFilter,
)
from crm.filters.custom_objects import custom_object_filters  # noqa: F401
from crm.filters.opportunities import opportunity_filters  # noqa: F401

"""crm tables, one module per area: campaigns and their members, accounts and users."""

from crm.tables.accounts import (  # noqa: F401
    AccountTable,
    SalesforceUserTable,
)
from crm.tables.campaigns import (  # noqa: F401
    STATE_BADGES,
    CampaignTable,
    MemberTable,
    state_badge,
)

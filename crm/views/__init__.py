"""crm views, one module per area: campaigns and their members, accounts and users."""

from crm.views.accounts import (  # noqa: F401
    SYNC_USERS_JOB,
    AccountListView,
    SalesforceUserListView,
    WelcomeView,
    account_detail,
    account_settings,
    log,
    profile_mapping,
    users_sync_now,
)
from crm.views.campaigns import (  # noqa: F401
    EXPORT_CHUNK,
    EXPORT_COLUMNS,
    MAX_SELECTED,
    PER_PAGE,
    CampaignListView,
    KnownCountPaginator,
    bulk_add,
    campaign_connect,
    campaign_detail,
    campaign_export,
    membership_status,
    prospect_add,
    task_status,
)

"""crm forms, one module per area: campaigns and their members, accounts and users."""

from crm.forms.accounts import (  # noqa: F401
    AccountSettingsForm,
    ProfileMappingFormSet,
)
from crm.forms.campaigns import (  # noqa: F401
    SEPARATOR,
    AddToCampaignForm,
    ConnectForm,
    campaign_status_choices,
)

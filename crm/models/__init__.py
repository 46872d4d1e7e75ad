"""The crm app's models: what Salesforce owns and Leadbridge mirrors — accounts
(``accounts.py``) and Salesforce users, their profiles and the profile → portal role mapping
(``users.py``)."""

from crm.models.accounts import Account, AccountSettings
from crm.models.users import PortalRole, SalesforceProfile, SalesforceUser

__all__ = [
    "Account",
    "AccountSettings",
    "PortalRole",
    "SalesforceProfile",
    "SalesforceUser",
]

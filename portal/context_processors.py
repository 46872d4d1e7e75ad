from django.http import HttpRequest

from core.roles import is_marketer, is_sync_admin
from operations.attention import headline, lost_items
from sync.errors.records import open_error_count
from sync.models import Connector

# (label, url name, needs Sync admin)
NAVIGATION = [
    ("Dashboard", "portal:dashboard", False),
    ("Prospects", "prospects:list", False),
    ("Campaigns", "crm:campaigns", False),
    ("Reports", "reports:roi", False),
    ("Automation", "automation:lists", False),  # lists and rules, tabs on the pages
    ("Scoring", "prospects:scoring", False),
    ("Sync Errors", "sync:errors", False),
    ("Imports", "intake:imports", False),
    ("Accounts", "crm:accounts", False),
    ("Forms", "intake:form_list", False),
    ("Recycle bin", "operations:recycle_bin", False),
    ("Connector", "sync:connector", True),
    ("Field sync", "sync:field_rules", True),
    ("Users", "crm:users", True),
]


def navigation(request: HttpRequest) -> dict:
    """The navigation for the user's role, the open Sync Errors badge and, for Sync admins, the
    connector's "needs attention" banner naming exactly what was lost."""
    user = getattr(request, "user", None)
    if user is None or not is_marketer(user):
        return {"nav_items": []}
    admin = is_sync_admin(user)
    context = {
        "nav_items": [(label, name) for label, name, admin_only in NAVIGATION if not admin_only],
        # A Sync admin's settings pages sit in one menu, so the bar keeps to one line.
        "settings_items": [(label, name) for label, name, admin_only in NAVIGATION if admin_only]
        if admin
        else [],
        "user_is_sync_admin": admin,
        "open_error_count": open_error_count(),
    }
    if admin:
        connector = Connector.objects.current()
        if connector is not None and connector.state == Connector.State.NEEDS_ATTENTION:
            # Each lost thing with what it holds back (operations/attention.py says it true).
            context["connector_attention"] = lost_items(connector) or [
                "The connector needs attention."
            ]
            context["connector_headline"] = headline(connector)
    return context

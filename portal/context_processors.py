from django.http import HttpRequest

from portal.roles import is_marketer, is_sync_admin

# (label, url name, needs Sync admin); later issues fill the pages behind them.
NAVIGATION = [
    ("Dashboard", "portal:dashboard", False),
    ("Prospects", "prospects:list", False),
    ("Sync Errors", "sync:errors", False),
    ("Imports", "portal:imports", False),
    ("Connector", "sync:connector", True),
    ("Field sync", "sync:field_rules", True),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not is_marketer(user):
        return {"nav_items": []}
    admin = is_sync_admin(user)
    return {
        "nav_items": [
            (label, name) for label, name, admin_only in NAVIGATION if admin or not admin_only
        ],
        "user_is_sync_admin": admin,
    }

from django.http import HttpRequest

from portal.roles import is_marketer, is_sync_admin

# (label, url name, needs Sync admin); later issues fill the pages behind them.
NAVIGATION = [
    ("Dashboard", "portal:dashboard", False),
    ("Prospects", "prospects:list", False),
    ("Sync Errors", "portal:sync_errors", False),
    ("Imports", "portal:imports", False),
    ("Connector", "portal:connector", True),
    ("Field sync", "portal:field_sync", True),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not is_marketer(user):
        return {"nav_items": []}
    admin = is_sync_admin(user)
    return {
        "nav_items": [(label, name) for label, name, admin_only in NAVIGATION if admin or not admin_only],
        "user_is_sync_admin": admin,
    }

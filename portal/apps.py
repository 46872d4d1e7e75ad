from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"


class PortalAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with :class:`portal.admin_site.PortalAdminSite` as ``admin.site``."""

    default = False  # installed by its dotted path; PortalConfig stays the portal app's config
    default_site = "portal.admin_site.PortalAdminSite"

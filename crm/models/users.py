"""Salesforce users and profiles, mirrored, and the portal users they stand for."""

from django.conf import settings
from django.db import models

from core.roles import MARKETER, SYNC_ADMIN

# User.UserType values of partner and customer-portal (community) users.
PARTNER_USER_TYPES = frozenset(
    {"PowerPartner", "CspLitePortal", "CustomerSuccess", "PowerCustomerSuccess"}
)


class PortalRole(models.TextChoices):
    """What a Salesforce profile's users are in the portal."""

    MARKETER = "marketer", MARKETER
    SYNC_ADMIN = "sync_admin", SYNC_ADMIN
    NONE = "none", "No portal access"

    @property
    def group_name(self) -> str | None:
        return {PortalRole.MARKETER: MARKETER, PortalRole.SYNC_ADMIN: SYNC_ADMIN}.get(self)


class SalesforceProfile(models.Model):
    """A Salesforce profile and the portal role a Sync admin maps it to.

    A profile starts mapped to no portal access: nobody gets into the portal until a Sync admin
    says which profiles may (the guide's User Sync tab maps profiles to roles the same way).
    A row without ``sf_id`` maps a profile by name before the first user sync (the demo's
    default mapping); that sync adopts it for the profile of that name.
    """

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True, null=True, blank=True)
    name = models.CharField(max_length=255)
    user_type = models.CharField(max_length=40, blank=True)
    license_name = models.CharField(max_length=80, blank=True)
    portal_role = models.CharField(
        max_length=20, choices=PortalRole.choices, default=PortalRole.NONE
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SalesforceUser(models.Model):
    """A Salesforce user, mirrored, and the portal user it is linked to (by Salesforce user id).

    Owners and assigned users are matched through this link, never by email at sync time.
    ``manages_portal_user``: the user sync created the portal user, so its name, email, role and
    active state follow Salesforce. A portal user that existed before and was linked by its email
    keeps the role and state a Sync admin gave it; only ownership uses the link.
    """

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    username = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=40, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    name = models.CharField(max_length=121, blank=True)
    email = models.EmailField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    user_type = models.CharField(max_length=40, blank=True)
    profile = models.ForeignKey(
        SalesforceProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="users"
    )
    role_sf_id = models.CharField("role's Salesforce id", max_length=18, blank=True)
    role_name = models.CharField("role", max_length=80, blank=True)
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="salesforce_user",
    )
    manages_portal_user = models.BooleanField(default=False)
    # Why this user has no portal user, or what the last user sync did (shown on the page).
    note = models.CharField(max_length=255, blank=True)
    modified_at = models.DateTimeField("changed in Salesforce", null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name or self.username or self.sf_id

    @property
    def is_partner(self) -> bool:
        """A partner or customer-portal user (excluded from assignment when the setting says)."""
        return self.user_type in PARTNER_USER_TYPES

    @property
    def portal_role(self) -> str:
        return self.profile.portal_role if self.profile else PortalRole.NONE

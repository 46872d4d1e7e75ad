"""Salesforce users and profiles: the mirror (``crm.SalesforceUser``/``SalesforceProfile``),
the portal users that follow them, and owner ↔ assigned user by Salesforce user id.

1. ``sync_users`` reads profiles and users changed since their watermarks (``SystemModstamp``;
   everything on the first run) — two small queries, so it runs before every pull — updates the
   mirror, then lets ``crm.portal_users.reconcile_portal_users`` create, update or deactivate
   portal users per the profile → role mapping.
2. ``OwnerMap`` answers "which Salesforce user owns records assigned to this portal user" (the
   push) and "which portal user is this owner" (the pull), by Salesforce user id through the
   mirror. A portal user not linked yet is looked up once by email and the link is stored, so
   from then on the id decides, whatever either side's email becomes.
3. Partner and customer-portal users are never owners or assigned users while the connector's
   "exclude partner users" setting is on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from crm.models import SalesforceProfile, SalesforceUser
from crm.portal_users import PortalUsersReport, link_by_email, reconcile_portal_users
from sync.engine.values import parse_sf_datetime
from sync.models import Connector, SyncCursor
from sync.salesforce import Client

OVERLAP = dt.timedelta(seconds=60)
USER_FIELDS = [
    "Id",
    "Username",
    "FirstName",
    "LastName",
    "Name",
    "Email",
    "IsActive",
    "UserType",
    "ProfileId",
    "UserRoleId",
    "SystemModstamp",
]
IN_LIST = 200


@dataclass
class UsersReport:
    profiles: int = 0
    users: int = 0
    portal: PortalUsersReport = field(default_factory=PortalUsersReport)


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def since(connector: Connector, sobject: str) -> tuple[SyncCursor, str]:
    """The cursor of ``sobject`` and its WHERE clause (none on the first run: read all)."""
    cursor, _ = SyncCursor.objects.get_or_create(connector=connector, sobject=sobject)
    if cursor.watermark is None:
        return cursor, ""
    return cursor, f" WHERE SystemModstamp > {soql_datetime(cursor.watermark - OVERLAP)}"


def advance(cursor: SyncCursor, rows: list[dict]) -> None:
    stamps = [parse_sf_datetime(r.get("SystemModstamp")) for r in rows]
    newest = max([s for s in stamps if s] + ([cursor.watermark] if cursor.watermark else []))
    SyncCursor.objects.filter(pk=cursor.pk).update(
        watermark=newest if stamps else cursor.watermark, last_run_at=timezone.now()
    )


def user_select(client: Client) -> str:
    available = client.fields_by_name("User")
    names = [n for n in USER_FIELDS if n in available]
    if "UserRoleId" in available:
        names.append("UserRole.Name")
    return ", ".join(names)


def sync_users(*, connector: Connector, client: Client | None = None) -> UsersReport:
    """Mirror the profiles and users Salesforce changed, then reconcile their portal users."""
    client = client or Client.for_connector(connector)
    report = UsersReport()
    profile_cursor, where = since(connector, "Profile")
    profile_fields = client.fields_by_name("Profile")
    select = ", ".join(
        ["Id", "Name", "SystemModstamp"]
        + (["UserType"] if "UserType" in profile_fields else [])
        + (["UserLicense.Name"] if "UserLicenseId" in profile_fields else [])
    )
    profiles = client.query_all(f"SELECT {select} FROM Profile{where}")
    user_cursor, where = since(connector, "User")
    users = client.query_all(f"SELECT {user_select(client)} FROM User{where}")
    with transaction.atomic():
        remember_profiles(profiles)
        mirrored = remember_users(users)
        advance(profile_cursor, profiles)
        advance(user_cursor, users)
    report.profiles, report.users = len(profiles), len(users)
    report.portal = reconcile_portal_users(
        SalesforceUser.objects.filter(pk__in=[u.pk for u in mirrored]).select_related(
            "profile", "portal_user"
        )
    )
    return report


def remember_profiles(rows: list[dict]) -> None:
    """Insert or refresh mirrored profiles; a profile's role mapping is never touched here."""
    now = timezone.now()
    existing = SalesforceProfile.objects.in_bulk([r["Id"] for r in rows], field_name="sf_id")
    premapped = {p.name: p for p in SalesforceProfile.objects.filter(sf_id__isnull=True)}
    for row in rows:
        if row["Id"] not in existing and row.get("Name") in premapped:
            existing[row["Id"]] = premapped.pop(row["Name"])
            existing[row["Id"]].sf_id = row["Id"]
        values = {
            "name": row.get("Name") or row["Id"],
            "user_type": row.get("UserType") or "",
            "license_name": (row.get("UserLicense") or {}).get("Name") or "",
            "refreshed_at": now,
        }
        profile = existing.get(row["Id"]) or SalesforceProfile(sf_id=row["Id"])
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save()


# Mirror column -> User field (text fields copied as Salesforce sends them).
USER_COLUMNS = {
    "username": "Username",
    "first_name": "FirstName",
    "last_name": "LastName",
    "name": "Name",
    "email": "Email",
    "user_type": "UserType",
    "role_sf_id": "UserRoleId",
}


def remember_users(rows: Iterable[dict]) -> list[SalesforceUser]:
    """Insert or refresh mirrored users from User rows (any subset of ``USER_FIELDS``: a field
    the row lacks keeps its mirrored value)."""
    rows = list(rows)
    now = timezone.now()
    existing = SalesforceUser.objects.in_bulk([r["Id"] for r in rows], field_name="sf_id")
    profiles = dict(SalesforceProfile.objects.values_list("sf_id", "pk"))
    out = []
    for row in rows:
        user = existing.get(row["Id"]) or SalesforceUser(sf_id=row["Id"])
        for column, name in USER_COLUMNS.items():
            if name in row:
                setattr(user, column, str(row[name] or "").strip())
        if "IsActive" in row:
            user.is_active = bool(row["IsActive"])
        if "UserRole" in row:
            user.role_name = (row["UserRole"] or {}).get("Name") or ""
        if "ProfileId" in row:
            user.profile_id = profiles.get(row["ProfileId"])
        user.modified_at = parse_sf_datetime(row.get("SystemModstamp")) or user.modified_at
        user.refreshed_at = now
        user.save()
        out.append(user)
    return out


class OwnerMap:
    """Owner ↔ assigned user by Salesforce user id, for one push or pull (see the module doc)."""

    def __init__(self, connector: Connector) -> None:
        self.exclude_partners = connector.exclude_partner_users
        self._sf_by_portal: dict[int, str | None] = {}
        self._portal_by_sf: dict[str, int | None] = {}
        self._excluded: set[str] = set()  # partner owners, while partner users are excluded

    def usable(self, sf_user: SalesforceUser) -> bool:
        if self.exclude_partners and sf_user.is_partner:
            self._excluded.add(sf_user.sf_id)
            return False
        return True

    # -- push: portal user -> Salesforce owner id -------------------------------------------
    def unknown_portal_users(self, users: Iterable) -> dict[int, str]:
        """Of these portal users, those no mirrored Salesforce user is linked to, by pk →
        lower-case email; the caller asks Salesforce for those emails. Links are read from the
        mirror first, and made there by email when the mirror already holds the user."""
        users = {u.pk: u for u in users if u is not None and u.pk not in self._sf_by_portal}
        if not users:
            return {}
        emails = {u.email.lower() for u in users.values() if u.email}
        if emails:
            candidates = SalesforceUser.objects.annotate(lower_email=Lower("email")).filter(
                lower_email__in=emails, portal_user=None, is_active=True
            )
            link_by_email(list(candidates), PortalUsersReport())
        for sf_user in SalesforceUser.objects.filter(portal_user__in=list(users)):
            self._sf_by_portal[sf_user.portal_user_id] = (
                sf_user.sf_id if self.usable(sf_user) else None
            )
        unknown = {}
        for pk, user in users.items():
            if pk in self._sf_by_portal:
                continue
            if user.email:
                unknown[pk] = user.email.lower()
            else:
                self._sf_by_portal[pk] = None  # no link and no email: nobody to match
        return unknown

    def learn_by_email(self, wanted: dict[int, str], rows: list[dict]) -> None:
        """Link the unlinked portal users to the active Salesforce users with their emails."""
        rows = [r for r in rows if r.get("IsActive", True)]
        mirrored = remember_users(sorted(rows, key=lambda r: r["Id"]))
        link_by_email([u for u in mirrored if u.portal_user_id is None], PortalUsersReport())
        found = SalesforceUser.objects.filter(portal_user__in=list(wanted))
        for sf_user in found:
            self._sf_by_portal[sf_user.portal_user_id] = (
                sf_user.sf_id if self.usable(sf_user) else None
            )
        for pk in wanted:
            self._sf_by_portal.setdefault(pk, None)

    def owner_for(self, user) -> str | None:
        return self._sf_by_portal.get(user.pk) if user is not None else None

    def knows(self, user) -> bool:
        return user.pk in self._sf_by_portal

    # -- pull: Salesforce owner id -> portal user ---------------------------------------------
    def unknown_owners(self, owner_ids: Iterable[str]) -> list[str]:
        """Note the mirrored owners (linking by email those not linked yet: a portal user may
        have been made since); returns the ids the mirror does not hold."""
        wanted = set(owner_ids) - set(self._portal_by_sf)
        found = list(SalesforceUser.objects.filter(sf_id__in=wanted))
        link_by_email([u for u in found if u.portal_user_id is None], PortalUsersReport())
        for sf_user in found:
            self._portal_by_sf[sf_user.sf_id] = (
                sf_user.portal_user_id if self.usable(sf_user) else None
            )
        return sorted(wanted - set(self._portal_by_sf))

    def learn_owners(self, rows: list[dict], asked: Iterable[str]) -> None:
        """Mirror owners read from Salesforce and link them by email to unlinked portal users."""
        mirrored = remember_users(rows)
        link_by_email([u for u in mirrored if u.portal_user_id is None], PortalUsersReport())
        for sf_user in SalesforceUser.objects.filter(sf_id__in=[u.sf_id for u in mirrored]):
            self._portal_by_sf[sf_user.sf_id] = (
                sf_user.portal_user_id if self.usable(sf_user) else None
            )
        for sf_id in asked:
            self._portal_by_sf.setdefault(sf_id, None)

    def portal_user_for(self, owner_id: str) -> int | None:
        return self._portal_by_sf.get(owner_id)

    def is_excluded(self, owner_id: str) -> bool:
        """An owner known to be a partner user while partner users are excluded."""
        return owner_id in self._excluded


def owner_query(ids: list[str], client: Client) -> list[str]:
    """SOQL reading these users (``IN_LIST`` ids a query) for the owner map."""
    select = user_select(client)
    return [
        f"SELECT {select} FROM User WHERE Id IN ("
        + ", ".join(f"'{i}'" for i in ids[start : start + IN_LIST])
        + ")"
        for start in range(0, len(ids), IN_LIST)
    ]

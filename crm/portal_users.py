"""Portal users that follow Salesforce users: created, updated and deactivated to match the
mirror (``SalesforceUser``) and the profile → role mapping, with an invitation instead of a
password.

One function, ``reconcile_portal_users``, is called by the user sync after each pull of users
and by the profile mapping page after a Sync admin changes the mapping. For each Salesforce user:

1. No portal user linked yet: an unlinked portal user with the same email (case-insensitive) is
   linked — once; after that, owners and assigned users match by the Salesforce user id.
   A portal user found this way existed before: the link serves ownership only, and its role
   and state stay as a Sync admin set them (the guide skips same-email users the same way).
2. Still none, active in Salesforce and its profile mapped to a role: a portal user is created
   with that role, no usable password, and an invitation email with a set-password link.
3. A portal user the sync created follows Salesforce: name and email; the role group of its
   profile; deactivated when the Salesforce user is inactive or its profile maps to no role
   (its role groups removed too), reactivated when both come back. Prospects assigned to a
   deactivated user stay assigned to it: the prospect page says the owner is inactive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.roles import MARKETER, SYNC_ADMIN
from crm.models import PortalRole, SalesforceUser

log = logging.getLogger(__name__)
ROLE_GROUPS = (MARKETER, SYNC_ADMIN)


@dataclass
class PortalUsersReport:
    """What a reconcile did to portal users (ids of the portal users)."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deactivated: list[int] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)
    invitations_failed: list[int] = field(default_factory=list)


def reconcile_portal_users(sf_users: Iterable[SalesforceUser]) -> PortalUsersReport:
    """Bring the portal users of these Salesforce users in line (see the module docstring)."""
    report = PortalUsersReport()
    sf_users = list(sf_users)
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_GROUPS)}
    with transaction.atomic():
        link_by_email([u for u in sf_users if u.portal_user_id is None], report)
        for sf_user in sf_users:
            if sf_user.portal_user_id is None:
                create_portal_user(sf_user, groups, report)
            elif sf_user.manages_portal_user:
                follow(sf_user, groups, report)
            else:
                note(sf_user, "Linked by email: role and status are managed in the portal.")
    for user_id in report.created:
        if not send_invitation(get_user_model().objects.get(pk=user_id)):
            report.invitations_failed.append(user_id)
    return report


def link_by_email(sf_users: list[SalesforceUser], report: PortalUsersReport) -> None:
    """Link each Salesforce user to the oldest unlinked portal user with its email."""
    emails = {u.email.lower() for u in sf_users if u.email}
    if not emails:
        return
    taken = set(
        SalesforceUser.objects.exclude(portal_user=None).values_list("portal_user_id", flat=True)
    )
    by_email: dict[str, int] = {}
    for pk, email in (
        get_user_model()
        .objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=emails)
        .order_by("-pk")
        .values_list("pk", "lower_email")
    ):
        if pk not in taken:
            by_email[email] = pk
    for sf_user in sf_users:
        pk = by_email.pop(sf_user.email.lower(), None) if sf_user.email else None
        if pk is not None:
            sf_user.portal_user_id = pk
            sf_user.manages_portal_user = False
            sf_user.save(update_fields=["portal_user", "manages_portal_user"])
            report.linked.append(pk)


def eligible(sf_user: SalesforceUser) -> tuple[bool, str]:
    """Whether this Salesforce user should have a working portal user, and if not, why."""
    if not sf_user.is_active:
        return False, "Inactive in Salesforce: no portal access."
    if sf_user.profile is None:
        return False, "Profile not known yet: no portal access until the next user sync."
    if sf_user.portal_role == PortalRole.NONE:
        return False, f"Profile “{sf_user.profile.name}” is mapped to no portal role."
    return True, ""


def create_portal_user(sf_user: SalesforceUser, groups: dict, report: PortalUsersReport) -> None:
    ok, why = eligible(sf_user)
    if not ok:
        note(sf_user, why)
        return
    model = get_user_model()
    username = free_username(sf_user.username or sf_user.email or sf_user.sf_id)
    user = model(
        username=username,
        email=sf_user.email,
        first_name=sf_user.first_name[:150],
        last_name=sf_user.last_name[:150],
        is_staff=sf_user.portal_role == PortalRole.SYNC_ADMIN,
    )
    user.set_unusable_password()
    user.save()
    user.groups.add(groups[PortalRole(sf_user.portal_role).group_name])
    sf_user.portal_user = user
    sf_user.manages_portal_user = True
    sf_user.note = "Portal user created; invitation sent."
    sf_user.save(update_fields=["portal_user", "manages_portal_user", "note"])
    report.created.append(user.pk)


def follow(sf_user: SalesforceUser, groups: dict, report: PortalUsersReport) -> None:
    """A managed portal user takes the Salesforce user's name, email, role and state."""
    user = sf_user.portal_user
    ok, why = eligible(sf_user)
    wanted = {
        "email": sf_user.email,
        "first_name": sf_user.first_name[:150],
        "last_name": sf_user.last_name[:150],
        "is_active": ok,
        "is_staff": ok and sf_user.portal_role == PortalRole.SYNC_ADMIN,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if changed:
        user.save(update_fields=changed)
    group = PortalRole(sf_user.portal_role).group_name if ok else None
    held = set(user.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
    if held != ({group} if group else set()):
        user.groups.remove(*[groups[name] for name in held if name != group])
        if group:
            user.groups.add(groups[group])
        changed.append("groups")
    if "is_active" in changed and not ok:
        report.deactivated.append(user.pk)
    elif changed:
        report.updated.append(user.pk)
    note(sf_user, why or "Portal user follows this Salesforce user.")


def note(sf_user: SalesforceUser, text: str) -> None:
    if sf_user.note != text:
        sf_user.note = text
        sf_user.save(update_fields=["note"])


def free_username(wanted: str) -> str:
    """The Salesforce username, or it with a number when a portal user already has it."""
    model = get_user_model()
    base = wanted[:140]
    candidate, n = base, 1
    while model.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def invitation_link(user) -> str:
    """A set-password link (Django's password-reset token: it dies once the password is set)."""
    path = reverse(
        "crm:welcome",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    return (settings.PORTAL_URL or "http://127.0.0.1:8000").rstrip("/") + path


def send_invitation(user) -> bool:
    """Email the user their set-password link; ``False`` (logged, noted) when it cannot go."""
    if not user.email:
        return False
    body = (
        f"Hello {user.get_full_name() or user.username},\n\n"
        "Your Salesforce user now has a Leadbridge account "
        f"(username: {user.username}).\nChoose your password here:\n\n"
        f"{invitation_link(user)}\n\nThe link works once.\n"
    )
    try:
        send_mail("Your Leadbridge account", body, None, [user.email])
    except OSError as exc:  # SMTP refused, unreachable…: the user is there, the mail is not
        log.warning("invitation to %s not sent: %s", user.email, exc)
        SalesforceUser.objects.filter(portal_user=user).update(
            note=f"Portal user created; the invitation email could not be sent ({exc})."
        )
        return False
    return True


def reconcile_all() -> PortalUsersReport:
    """Every mirrored user (after a Sync admin changed the profile mapping)."""
    return reconcile_portal_users(
        SalesforceUser.objects.select_related("profile", "portal_user").order_by("pk")
    )

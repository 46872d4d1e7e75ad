"""The preference centre: signed, expiring links that let a person unsubscribe, resubscribe or
set their email preferences without logging in.

A link carries the prospect's id signed with the secret key and a timestamp
(``TimestampSigner``): it cannot be forged or pointed at someone else, and it stops working
after ``PREFERENCE_LINK_DAYS``. A change applies to every prospect with the person's email
(AMPSEA: one person, several prospects — opting out one opts out all), is an activity on each,
and asks for their syncs with its own reason; ``opted_out`` syncs to Salesforce's
``HasOptedOutOfEmail`` as its field rule says.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse

from intake.writes import WriteOptions, write_prospects
from prospects.activities import record_activities
from prospects.models import ActivityType, Prospect, SyncReason

SALT = "intake.preferences"
ACTOR_LABEL = "Preference centre"


class LinkRefused(Exception):
    """The link is forged, damaged, expired, or its prospect is gone."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def make_token(prospect: Prospect) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(prospect.pk))


def read_token(token: str) -> Prospect:
    """The prospect a link names; raises LinkRefused with what to tell the visitor."""
    max_age = settings.PREFERENCE_LINK_DAYS * 24 * 3600
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkRefused(
            "This link has expired. Use the link in a more recent email from us."
        ) from exc
    except signing.BadSignature as exc:
        raise LinkRefused(
            "This link is not valid: it may have been cut short or changed. "
            "Use the link exactly as it appears in the email."
        ) from exc
    prospect = Prospect.objects.active().filter(pk=int(value)).first() if value.isdigit() else None
    if prospect is None:
        raise LinkRefused("We no longer hold an address for this link.")
    return prospect


@dataclass(frozen=True)
class Links:
    preferences: str
    unsubscribe: str  # also the RFC 8058 one-click URL (List-Unsubscribe + List-Unsubscribe-Post)
    resubscribe: str


def links_for(prospect: Prospect, *, base_url: str | None = None) -> Links:
    """The prospect's preference-centre links, absolute on ``base_url`` (default PORTAL_URL).

    For an email's headers: ``List-Unsubscribe: <links.unsubscribe>`` and
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
    """
    base = (settings.PORTAL_URL if base_url is None else base_url).rstrip("/")
    token = make_token(prospect)
    return Links(
        preferences=base + reverse("intake_public:preferences", args=[token]),
        unsubscribe=base + reverse("intake_public:unsubscribe", args=[token]),
        resubscribe=base + reverse("intake_public:resubscribe", args=[token]),
    )


def same_person(prospect: Prospect) -> list[int]:
    """Every active prospect with this prospect's email (any letter case), itself included."""
    email = prospect.email.strip().lower()
    if not email:
        return [prospect.pk]
    ids = list(
        Prospect.objects.active()
        .annotate(email_ci=Lower("email"))
        .filter(email_ci=email)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return ids or [prospect.pk]


def unsubscribe(prospect: Prospect) -> int:
    """Opt out everyone with this email; returns how many prospects changed."""
    return _apply(prospect, {"opted_out": True}, ActivityType.UNSUBSCRIBE, SyncReason.UNSUBSCRIBE)


def resubscribe(prospect: Prospect) -> int:
    """Opt back in everyone with this email (the person themselves asked)."""
    return _apply(prospect, {"opted_out": False}, ActivityType.RESUBSCRIBE, SyncReason.RESUBSCRIBE)


def set_preferences(prospect: Prospect, *, opted_out: bool, do_not_email: bool) -> int:
    """Save the preference form for everyone with this email."""
    return _apply(
        prospect,
        {"opted_out": opted_out, "do_not_email": do_not_email},
        ActivityType.PREFERENCES,
        SyncReason.PREFERENCES,
    )


def _apply(prospect: Prospect, values: dict, activity: ActivityType, reason: SyncReason) -> int:
    """One write through ``write_prospects`` (row locks, changed fields only, history naming
    the preference centre, one sync request), then one activity per prospect that changed."""
    rows = [(i, {"prospect_id": pk, **values}) for i, pk in enumerate(same_person(prospect))]
    with transaction.atomic():
        results = write_prospects(
            rows,
            options=WriteOptions(
                create=False,
                reason=reason,
                operation="preference centre",
                allow_opt_in=True,
            ),
            actor=None,
            actor_label=ACTOR_LABEL,
        )
        updated = [r.prospect_id for r in results if r.outcome == "updated"]
        record_activities(updated, activity, title=ACTOR_LABEL, reason=reason)
    return len(updated)

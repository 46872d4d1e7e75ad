"""What a form, form handler or landing page submission does to prospects.

Every public submission comes through ``submit``, so a form handler on the customer's site, a
form in an iframe and a landing page behave alike:

1. A filled honeypot field means a bot: the submission is dropped, and the visitor sees the
   usual success (a bot told it failed would try again differently).
2. Posted fields are mapped to prospect fields; a missing required field fails the submission
   with a reason per field; fields nobody mapped are ignored and noted in the activity.
3. The prospect is found as Pardot's AMPSEA rules say: the visitor's cookie when it names a
   prospect with the submitted email (or no email was submitted), else the most recently active
   prospect with that email, else a new one (``intake.writes.write_prospects``).
4. The submission is an activity, the prospect asks for a sync with the path's reason, and the
   completion actions run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import django_rq
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from automation.action_types import (
    Action,
    AdjustScore,
    AssignQueue,
    AssignUser,
    NotifyUser,
    SetCampaign,
)
from automation.actions import ActionResult, InvalidActions, apply_actions, parse_actions
from automation.context import Source as ActionSource
from intake.form_models import Form, FormHandler, PublicEntry
from intake.writes import WriteOptions, write_prospects
from prospects.activities import record_activities
from prospects.models import (
    CUSTOM_PREFIX,
    ActivityType,
    CustomField,
    Prospect,
    SyncReason,
)
from prospects.sync_requests import request_sync_many

log = logging.getLogger(__name__)

# Posted fields that are the page's plumbing, not the visitor's data.
PLUMBING = frozenset({"csrfmiddlewaretoken"})
# An activity keeps at most this much of each value (the body limit caps the whole anyway).
DETAIL_VALUE_LIMIT = 1000
MAX_UNKNOWN_NOTED = 50


@dataclass(frozen=True)
class Source:
    """Which public path a submission came through: its activity, sync reason and history."""

    activity: ActivityType
    reason: SyncReason
    operation: str
    label: str


FORM_HANDLER = Source(
    ActivityType.FORM_HANDLER, SyncReason.FORM_HANDLER, "form handler", "Form handler"
)
FORM = Source(ActivityType.FORM, SyncReason.FORM, "form", "Form")
LANDING_PAGE = Source(
    ActivityType.LANDING_PAGE, SyncReason.LANDING_PAGE, "landing page", "Landing page"
)


@dataclass
class Submission:
    """What became of a submission. ``spam`` ones changed nothing and look like successes."""

    # "created" | "updated" | "unchanged" | "failed" | "spam", or "received": stored for the
    # worker (a form handler's, ``intake.received``; ``receipt`` is its key)
    outcome: str
    prospect_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)  # posted field name → reason
    unknown: list[str] = field(default_factory=list)
    receipt: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome not in ("failed",)


def submit(
    *,
    entry: PublicEntry,
    source: Source,
    posted: Mapping[str, list[str]],
    visitor_id: int | None = None,
    title: str = "",
    details: Mapping[str, Any] | None = None,
) -> Submission:
    """Apply one submission (``posted``: field name → its values, as a QueryDict's ``lists()``).

    ``entry`` is the form handler or form; ``title`` names the activity (the landing page's
    name when the form sits on one); ``details`` adds to the activity (the page's URL).
    """
    if _first(posted.get(entry.honeypot_field)):
        return Submission(outcome="spam")
    mapping = mapping_of(entry)
    row, errors, unknown = map_posted(entry, mapping, posted)
    if errors:
        return Submission(outcome="failed", errors=errors, unknown=unknown)
    cookie_prospect = _cookie_match(visitor_id, row.get("email", ""))
    if cookie_prospect:
        row["prospect_id"] = cookie_prospect
    elif not row.get("email", "").strip():
        email_name = next((n for n, (f, _) in mapping.items() if f == "email"), "email")
        return Submission(outcome="failed", errors={email_name: "An email address is required."})
    activity_details = {
        "values": {
            name: value[:DETAIL_VALUE_LIMIT] if isinstance(value, str) else value
            for name, value in row.items()
            if name != "prospect_id"
        },
        **({"unknown_fields": unknown[:MAX_UNKNOWN_NOTED]} if unknown else {}),
        **(details or {}),
    }
    label = f"{source.label} {entry.name}"
    options = WriteOptions(
        overwrite=True,
        create=True,
        assign_user=entry.action_assign_user,
        assign_queue=entry.action_assign_queue,
        campaign=entry.campaign,
        validate_values=True,
        reason=source.reason,
        operation=source.operation,
    )
    # One transaction: no push can slip between the write and the activity's score.
    with transaction.atomic():
        (result,) = write_prospects([(0, row)], options=options, actor=None, actor_label=label)
        if not result.ok:
            back = {prospect_field: name for name, (prospect_field, _) in mapping.items()}
            return Submission(
                outcome="failed",
                errors={back.get(p.field, p.field or "form"): p.message for p in result.errors},
                unknown=unknown,
            )
        record_activities(
            [result.prospect_id],
            source.activity,
            title=title or entry.name,
            details=activity_details,
            reason=None,
        )
        if result.outcome == "unchanged":
            # Nothing typed changed, yet the submission is news for Salesforce (the score,
            # the last activity): the prospect asks for its sync all the same.
            request_sync_many([result.prospect_id], source.reason)
        run_completion_actions(entry, prospect_id=result.prospect_id, label=label)
    return Submission(outcome=result.outcome, prospect_id=result.prospect_id, unknown=unknown)


def _first(values: list[str] | None) -> str:
    return (values or [""])[0] if values else ""


def mapping_of(entry: PublicEntry) -> dict[str, tuple[str, bool]]:
    """Posted field name → (prospect field, required)."""
    if isinstance(entry, FormHandler):
        return {f.external_name: (f.prospect_field, f.required) for f in entry.fields.all()}
    assert isinstance(entry, Form)
    return {f.prospect_field: (f.prospect_field, f.required) for f in entry.fields.all()}


def map_posted(
    entry: PublicEntry, mapping: dict[str, tuple[str, bool]], posted: Mapping[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The prospect values a submission carries, the required fields it lacks, and the names
    of the posted fields nobody mapped."""
    customs = {
        f.removeprefix(CUSTOM_PREFIX) for f, _ in mapping.values() if f.startswith(CUSTOM_PREFIX)
    }
    multi = (
        {
            c.prospect_field
            for c in CustomField.objects.filter(
                type=CustomField.Type.MULTI_SELECT, api_name__in=customs
            )
        }
        if customs
        else set()
    )
    row: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (prospect_field, required) in mapping.items():
        values = [v for v in posted.get(name, []) if v.strip()]
        value: Any = values if prospect_field in multi else (values[0] if values else "")
        if required and not values:
            errors[name] = "This field is required."
            continue
        if name in posted:
            row[prospect_field] = value
    unknown = sorted(
        name
        for name in posted
        if name not in mapping and name not in PLUMBING and name != entry.honeypot_field
    )
    return row, errors, unknown


def _cookie_match(visitor_id: int | None, email: str) -> int | None:
    """The cookie's prospect, if it still exists and is the one submitting: the same email, or
    none given. A different email on the same browser is another person (AMPSEA): matched by
    email instead."""
    if visitor_id is None:
        return None
    found = Prospect.objects.active().filter(pk=visitor_id).values_list("email", flat=True).first()
    if found is None:
        return None
    if email.strip() and email.strip().lower() != found.strip().lower():
        return None
    return visitor_id


# -- completion actions ----------------------------------------------------------------------


def run_completion_actions(entry: PublicEntry, *, prospect_id: int, label: str) -> ActionResult:
    """Run ``entry``'s completion actions on the prospect through the action set
    (``automation.actions.apply_actions``, source "completion action"); returns the fields
    what they did.

    Assignment applies only when nobody is assigned (new prospects were assigned on creation);
    the campaign replaces the prospect's; the score adjustment is on the timeline; the
    notification is an email a worker sends after commit; then the entry's further actions
    (add to a Salesforce campaign, set a field, add to a list, …). One history row names the
    fields, and one sync is requested, with ``SyncReason.COMPLETION_ACTION``.
    """
    if not entry.has_completion_actions:
        return ActionResult()
    actions = completion_actions_of(entry)
    with transaction.atomic():
        result = apply_actions(
            actions, [prospect_id], actor=None, source=ActionSource.COMPLETION, label=label
        )
    for message in result.messages:
        log.warning("completion action of %s refused: %s", label, message)
    return result


def completion_actions_of(entry: PublicEntry) -> list[Action]:
    """The entry's completion actions as the action set's: its own fields first (assignment
    only of unassigned prospects, as Pardot's), then its further actions. A further action
    whose campaign or list was deleted since is left out (and logged), the rest still run."""
    actions: list[Action] = []
    if entry.action_assign_user_id:
        actions.append(AssignUser(entry.action_assign_user, only_unassigned=True))
    elif entry.action_assign_queue_id:
        actions.append(AssignQueue(entry.action_assign_queue, only_unassigned=True))
    if entry.action_campaign_id:
        actions.append(SetCampaign(entry.action_campaign))
    if entry.action_score:
        actions.append(AdjustScore(entry.action_score))
    if entry.action_notify_user_id:
        actions.append(NotifyUser(entry.action_notify_user))
    for item in entry.completion_actions or []:
        try:
            actions += parse_actions([item])
        except InvalidActions as exc:
            log.warning("a completion action of %s no longer applies: %s", entry, exc)
    return actions


def _enqueue_notification(user_id: int, prospect_id: int, title: str) -> None:
    try:
        django_rq.get_queue("default").enqueue(
            "intake.submissions.notify_user", user_id, prospect_id, title
        )
    except Exception:  # noqa: BLE001 - Redis down: the submission stands, the email is lost
        log.warning("could not queue the notification of prospect %s", prospect_id, exc_info=True)


def notify_user(user_id: int, prospect_id: int, title: str) -> None:
    """RQ job: tell a user a prospect submitted (the completion action "notify user")."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    prospect = Prospect.objects.filter(pk=prospect_id).first()
    if user is None or prospect is None or not user.email:
        return
    link = settings.PORTAL_URL.rstrip("/") + reverse("prospects:detail", args=[prospect.pk])
    send_mail(
        subject=f"{title}: {prospect.email}",
        message=f"{prospect.full_name or prospect.email} submitted {title}.\n\n{link}\n",
        from_email=None,
        recipient_list=[user.email],
    )

"""Demo data for the local demo (``make run``): users of both roles and realistic prospects.

Idempotent: running it again changes nothing once the demo is there.
"""

import datetime as dt
import os
import random
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core.roles import MARKETER, SYNC_ADMIN, create_user
from crm.models import PortalRole, SalesforceProfile
from prospects.activities import ENGAGEMENT_TYPES
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import (
    Activity,
    ActivityType,
    CustomField,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    SyncReason,
)
from prospects.scoring import regrade
from prospects.sync_requests import request_sync_many
from reports.roi import refresh_figures
from sync.mapping import ensure_default_rules
from sync.models import Connector, FieldRule


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    # The demo's Sync admin is a superuser too, so the Django admin shows every model (the
    # sandbox org's included); the flag grants no role (core/roles.py).
    superuser: bool = False


DEMO_LOGINS = [
    DemoLogin("admin", "leadbridge-admin", SYNC_ADMIN, superuser=True),
    DemoLogin("marketer", "leadbridge-marketer", MARKETER),
]
DEMO_PROSPECTS = 300
# (name, cost): the ROI report's cost per prospect and return on them.
DEMO_CAMPAIGNS = [
    ("Spring webinar series", 12000),
    ("Trade show 2026", 45000),
    ("Website sign-ups", 3000),
    ("Partner referrals", 8000),
]


def load_demo_users() -> list:
    """The demo logins with their roles; existing ones keep their password."""
    users = []
    for login in DEMO_LOGINS:
        user = get_user_model().objects.filter(username=login.username).first()
        if user is None:
            user = create_user(
                username=login.username,
                email=f"{login.username}@leadbridge.example",
                password=login.password,
                role=login.role,
            )
        user.is_superuser = login.superuser
        user.save(update_fields=["is_superuser"])
        user.groups.add(Group.objects.get(name=login.role))
        users.append(user)
    return users


# The demo's profile → portal role mapping, by name until the first user sync reads the
# profiles (crm.SalesforceProfile rows without a Salesforce id): the org's admins become Sync
# admins and its reps and marketers Marketers, each invited by email (printed by the console
# mail backend locally); the connector user and the partner get no portal access.
DEMO_PROFILE_ROLES = {
    "System Administrator": PortalRole.SYNC_ADMIN,
    "Standard User": PortalRole.MARKETER,
    "Marketing User": PortalRole.MARKETER,
}


def load_demo_profile_mapping() -> None:
    for name, role in DEMO_PROFILE_ROLES.items():
        if not SalesforceProfile.objects.filter(name=name).exists():
            SalesforceProfile.objects.create(name=name, portal_role=role)


# The demo org's sales reps, as Leadbridge users (no login): prospects assigned to them get
# that rep as the Salesforce owner, matched by email.
DEMO_SALES_REPS = [("alice", "alice@acme.example"), ("arthur", "arthur@acme.example")]
# The demo connector: the sandbox org that `make run` serves (see sandbox/demo.py).
DEMO_ORG = {
    "client_id": "leadbridge-demo",
    "client_secret": "leadbridge-demo-secret",
    "username": "connector@acme.example",
    "password": "connector-demo-1",
}
LONG_COMMENT = (
    "Met at the spring trade show; wants a full demo of the reporting suite for their regional "
    "teams in Q3, plus pricing for forty seats and the SSO add-on."
)  # 143 characters: the guide's example, over Customer_Comment__c's 100


def load_demo_connector() -> Connector | None:
    """A connector pointing at the local sandbox org, active, with default rules (idempotent).

    The guide's custom field "Customer comment" maps to the org's ``Customer_Comment__c``.
    """
    ca_path = Path(settings.VAR_DIR) / "sandbox" / "ca.pem"
    if not ca_path.exists():
        return None
    port = os.environ.get("SANDBOX_PORT", "8443")
    connector, created = Connector.objects.get_or_create(
        name="Salesforce",
        defaults={
            "login_url": f"https://127.0.0.1:{port}",
            "ca_bundle": ca_path.read_text(),
            "state": Connector.State.ACTIVE,
            "sync_interval": 30,
            **DEMO_ORG,
        },
    )
    if not created:
        return connector
    ensure_default_rules(connector)
    CustomField.objects.get_or_create(
        api_name="customer_comment",
        defaults={"label": "Customer comment", "type": CustomField.Type.TEXTAREA},
    )
    FieldRule.objects.get_or_create(
        connector=connector,
        prospect_field="custom:customer_comment",
        defaults={"lead_field": "Customer_Comment__c", "contact_field": "Customer_Comment__c"},
    )
    return connector


def map_sales_notes(connector: Connector) -> None:
    """The demo's second custom field, mapped to a field the connector user may only read."""
    CustomField.objects.get_or_create(
        api_name="sales_notes", defaults={"label": "Sales notes", "type": "textarea"}
    )
    FieldRule.objects.get_or_create(
        connector=connector,
        prospect_field="custom:sales_notes",
        defaults={"lead_field": "Sales_Notes__c", "contact_field": "Sales_Notes__c"},
    )


def failing_demo_prospects(owner) -> list[Prospect]:
    """Prospects Salesforce will refuse, one or more per error category of the guide."""
    build = ProspectFactory.build
    return [
        # Data formatting: the guide's 143-character comment; a state the picklist lacks.
        build(
            first_name="Dana",
            last_name="Long",
            assigned_user=owner,
            custom_fields={"customer_comment": LONG_COMMENT},
        ),
        build(
            first_name="Otto",
            last_name="Atlantis",
            assigned_user=owner,
            country="United States",
            state="Atlantis",
        ),
        # Process alignment: the org's validation rule refuses letters in a lead's phone.
        build(first_name="Phil", last_name="Phoneword", assigned_user=owner, phone="1-800-FLOWERS"),
        # Customization: the org's LeadTrigger refuses leads from this company.
        build(
            first_name="Boris",
            last_name="Blocked",
            assigned_user=owner,
            company="Blocked Industries",
        ),
        # Access: Sales_Notes__c is read-only for the connector user (field-level security).
        build(
            first_name="Rhea",
            last_name="Readonly",
            assigned_user=owner,
            custom_fields={"sales_notes": "Please call back after the board meeting."},
        ),
    ]


# What demo prospects did over the last four weeks: (type, title, details), drawn per prospect.
DEMO_PAGES = [
    ("/pricing", "Pricing"),
    ("/product/sync", "Salesforce sync"),
    ("/blog/ampsea-explained", "AMPSEA explained"),
    ("/customers", "Customer stories"),
]
DEMO_WEEKS = 4


def demo_journey(rng: random.Random) -> list[tuple[str, str, dict, dt.timedelta]]:
    """A plausible few weeks: page views, a webinar page, now and then a form or an unsubscribe.
    Each step is (type, title, details, how long ago)."""
    steps: list[tuple[str, str, dict, dt.timedelta]] = []
    for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 6, 8])):
        ago = dt.timedelta(minutes=rng.randint(30, DEMO_WEEKS * 7 * 24 * 60))
        kind = rng.choices(
            [
                ActivityType.LANDING_PAGE_VIEW,
                ActivityType.LANDING_PAGE,
                ActivityType.FORM_HANDLER,
                ActivityType.FORM,
                ActivityType.UNSUBSCRIBE,
            ],
            weights=[60, 12, 12, 10, 2],
        )[0]
        if kind == ActivityType.LANDING_PAGE_VIEW:
            url, title = rng.choice(DEMO_PAGES)
            steps.append((kind, title, {"url": url}, ago))
        elif kind == ActivityType.LANDING_PAGE:
            steps.append(
                (kind, "Webinar: syncing Pardot with Salesforce", {"slug": "demo-webinar"}, ago)
            )
        elif kind == ActivityType.FORM_HANDLER:
            steps.append((kind, "Contact us", {"slug": "demo-contact-us"}, ago))
        elif kind == ActivityType.FORM:
            steps.append((kind, "Newsletter sign-up", {}, ago))
        else:
            steps.append((kind, "One-click unsubscribe", {}, ago))
    return steps


def score_from(prospect: Prospect, journey: list) -> None:
    """The prospect's score and last activity as its journey earned them (Pardot's defaults)."""
    points = ScoringRule.points_by_type()
    now = timezone.now()
    prospect.score = sum(points.get(kind, 0) for kind, *_ in journey)
    engaged = [now - ago for kind, _, _, ago in journey if kind in ENGAGEMENT_TYPES]
    prospect.last_activity_at = max(engaged, default=None)
    if any(kind == ActivityType.UNSUBSCRIBE for kind, *_ in journey):
        prospect.opted_out = True


def load_demo_activities(prospects: list[Prospect], journeys: list) -> None:
    """The demo's timelines (one bulk insert) and a default grading profile that grades them."""
    points = ScoringRule.points_by_type()
    now = timezone.now()
    Activity.objects.bulk_create(
        [
            Activity(
                prospect_id=prospect.pk,
                type=kind,
                title=title,
                details=details,
                occurred_at=now - ago,
                points=points.get(kind, 0),
            )
            for prospect, journey in zip(prospects, journeys, strict=True)
            for kind, title, details, ago in journey
        ],
        batch_size=1000,
    )
    profile, created = GradingProfile.objects.get_or_create(
        name="Ideal customer", defaults={"is_default": True}
    )
    if created:
        GradingCriterion.objects.bulk_create(
            [
                GradingCriterion(
                    profile=profile,
                    field="industry",
                    match="is",
                    values=["Software", "Finance"],
                    weight=2,
                ),
                GradingCriterion(
                    profile=profile, field="employees", match="between", minimum=200, weight=2
                ),
                GradingCriterion(
                    profile=profile,
                    field="job_title",
                    match="contains",
                    values=["manager", "director", "engineer"],
                    weight=2,
                ),
                GradingCriterion(
                    profile=profile,
                    field="country",
                    match="is",
                    values=["United States", "Canada"],
                    weight=1,
                ),
            ]
        )
    regrade()


@transaction.atomic
def load_demo(*, prospects: int = DEMO_PROSPECTS, seed: int = 2026) -> int:
    """Create the demo users, campaigns, connector and prospects; return prospects added.

    Prospects are queued for sync: the worker pushes those that qualify (assigned, or matching
    an org record by email) within a minute of ``make run``.
    """
    users = load_demo_users()
    reps = [
        get_user_model().objects.get_or_create(username=name, defaults={"email": email})[0]
        for name, email in DEMO_SALES_REPS
    ]
    load_demo_profile_mapping()
    connector = load_demo_connector()
    load_demo_forms()
    if Prospect.objects.exists():
        return 0
    if connector is not None:
        map_sales_notes(connector)
    random.seed(seed)
    ProspectFactory.reset_sequence(1)
    campaigns = [CampaignFactory(name=name, cost=cost) for name, cost in DEMO_CAMPAIGNS]
    built = [
        ProspectFactory.build(
            assigned_user=random.choice([*reps, *users, None, None, None]),
            campaign=random.choice([*campaigns, None]),
        )
        for _ in range(prospects)
    ]
    built += failing_demo_prospects(reps[0])
    journeys = [demo_journey(random.Random(seed + n)) for n in range(len(built))]
    for prospect, journey in zip(built, journeys, strict=True):
        score_from(prospect, journey)
    Prospect.objects.bulk_create(built, batch_size=500)
    load_demo_activities(built, journeys)
    if connector is not None:
        request_sync_many(
            list(Prospect.objects.values_list("pk", flat=True)), SyncReason.INITIAL_SYNC
        )
    load_demo_automation(users[-1] if users else None)  # the marketer
    refresh_figures()  # the ROI report's, at once rather than at the cron's next refresh
    return len(built)


def load_demo_automation(owner=None) -> None:
    """Two lists and a draft rule, so the Automation pages show what they are for: a dynamic
    list of engaged prospects (recomputed now, then by the cron every minute), a static list
    of webinar registrants, and a rule, left as a draft, that would notify a marketer about
    hot prospects once someone previews and switches it on."""
    from automation.lists import add_members, recompute
    from automation.models import ProspectList, Rule

    engaged = {"match": "all", "conditions": [{"field": "score", "op": "gte", "value": 50}]}
    dynamic, created = ProspectList.objects.get_or_create(
        name="Engaged prospects (score ≥ 50)",
        defaults={"kind": ProspectList.Kind.DYNAMIC, "criteria": engaged, "created_by": owner},
    )
    if created:
        recompute(dynamic)
    static, created = ProspectList.objects.get_or_create(
        name="Webinar registrants",
        defaults={
            "kind": ProspectList.Kind.STATIC,
            "description": "Added by hand, by import or by the webinar form's completion action.",
            "created_by": owner,
        },
    )
    if created:
        webinar = [ActivityType.FORM, ActivityType.LANDING_PAGE]
        registrants = Prospect.objects.filter(activities__type__in=webinar).order_by("pk")
        add_members(static, list(registrants.values_list("pk", flat=True).distinct()[:25]))
    if owner is not None:
        Rule.objects.get_or_create(
            name="Tell me about hot prospects",
            defaults={
                "description": "Emails the marketer about prospects scoring 100 or more. "
                "Left as a draft: preview it, then switch it on.",
                "criteria": {
                    "match": "all",
                    "conditions": [{"field": "score", "op": "gte", "value": 100}],
                },
                "actions": [{"type": "notify_user", "user": owner.pk}],
                "mode": Rule.Mode.REPEAT,
                "created_by": owner,
            },
        )


def load_demo_forms() -> None:
    """The demo's form handler ``/fh/demo-contact-us/`` and landing page ``/l/demo-webinar/``
    (idempotent). Neither assigns: a marketer assigns what comes in, and it becomes a Lead."""
    from intake.models import Form, FormHandler, LandingPage

    handler, created = FormHandler.objects.get_or_create(
        slug="demo-contact-us", defaults={"name": "Contact us (website)"}
    )
    if created:
        for external, field, required in [
            ("email", "email", True),
            ("first_name", "first_name", False),
            ("last_name", "last_name", False),
            ("company", "company", False),
            ("message", "comments", False),
        ]:
            handler.fields.create(external_name=external, prospect_field=field, required=required)
    form, created = Form.objects.get_or_create(
        slug="demo-webinar-form",
        defaults={
            "name": "Webinar registration",
            "submit_label": "Register",
            "thank_you_message": "You are registered. We will email you the link.",
        },
    )
    if created:
        for order, (field, label, required) in enumerate(
            [
                ("email", "Work email", True),
                ("first_name", "First name", True),
                ("last_name", "Last name", True),
                ("company", "Company", True),
                ("job_title", "Job title", False),
            ]
        ):
            form.fields.create(prospect_field=field, label=label, order=order, required=required)
    LandingPage.objects.get_or_create(
        slug="demo-webinar",
        defaults={
            "name": "Webinar: syncing marketing and sales",
            "title": "Webinar: keep marketing and sales in sync",
            "text": "Forty minutes on how prospects become Leads, and back.\n\n"
            "Register below; the recording goes to everyone who signs up.",
            "form": form,
        },
    )

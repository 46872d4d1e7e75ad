"""Role × URL × method: every URL pattern of the portal, as every role (issue 11, items 7 and 8).

The patterns come from the URL resolver, so a new page is covered the day it is added (and
must say which role it belongs to in ``AREAS``). Path parameters are filled with real objects
made here. For each pattern:

- anonymous visitors are sent to the login page, GET and POST alike (public pages excepted);
- a marketer gets 403 from Sync admin pages, GET and POST, and nothing changes;
- every GET, as each role allowed on the page, changes no row of any table (row counts and a
  checksum of every model's rows before and after; see ``UNWATCHED`` for the exceptions).

The REST API (``API``) is used with keys, not sessions: anonymous requests get 401 (not the
login page), a key of a user without a role gets 403, and GETs are made with each role's key.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

import django_rq
import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import router
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from rq import Queue, SimpleWorker

from api.models import ApiKey, create_key
from core.models import Heartbeat, Task
from crm.models import (
    Account,
    CampaignMembership,
    CampaignMemberStatus,
    CustomObjectDefinition,
    SalesforceCampaign,
)
from intake.models import Form, FormHandler, Import, LandingPage
from intake.preferences import make_token
from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import (
    CrmQueue,
    CustomField,
    GradingProfile,
    SyncHistory,
    SyncQueueItem,
    SyncReason,
)
from sync.models import (
    ConnectorChange,
    DataSharingRule,
    FieldRule,
    SObjectDescribe,
    SyncCursor,
    SyncError,
)

DATABASES = list(settings.DATABASES)
pytestmark = pytest.mark.django_db(databases=DATABASES)

PUBLIC, MARKETER, SYNC_ADMIN = "public", "marketer", "sync admin"
API = "api (a marketer's key)"
# Who may open what, by URL name (the longest matching prefix wins).
AREAS = {
    "login": PUBLIC,
    "logout": PUBLIC,
    "portal:health": PUBLIC,
    "admin:login": PUBLIC,  # a redirect to the portal's login page
    "portal:": MARKETER,
    "portal:lockouts": SYNC_ADMIN,
    "portal:unlock": SYNC_ADMIN,
    "prospects:": MARKETER,
    "intake:": MARKETER,
    "crm:": MARKETER,
    "automation:": MARKETER,
    "prospects:scoring_edit": SYNC_ADMIN,
    "prospects:scoring_recompute": SYNC_ADMIN,
    "prospects:grading_profile": SYNC_ADMIN,
    "sync:error": MARKETER,
    "sync:": SYNC_ADMIN,
    "operations:": MARKETER,
    "reports:": MARKETER,
    "operations:recycle_purge": SYNC_ADMIN,
    "admin:": SYNC_ADMIN,
    "django_rq:": SYNC_ADMIN,
    "crm:users": SYNC_ADMIN,
    "crm:profiles": SYNC_ADMIN,
    "crm:account_settings": SYNC_ADMIN,
    "crm:welcome": PUBLIC,  # an invitation link: its signed token is the credential
    # Visitors' pages: form handlers, forms, landing pages, the preference centre. Their GETs
    # change nothing either: a landing page's view is counted by a POST beacon, not the GET.
    "intake_public:": PUBLIC,
    "api:": MARKETER,  # My API keys, the docs
    "api:v1:": API,
    "api:schema": API,
}


@dataclass(frozen=True)
class Route:
    """One URL pattern: its namespaced name, its route and the path parameters it takes."""

    name: str
    route: str
    params: tuple[str, ...]

    @property
    def area(self) -> str:
        matches = [prefix for prefix in AREAS if self.name.startswith(prefix)]
        return AREAS[max(matches, key=len)] if matches else ""

    @property
    def in_admin(self) -> bool:
        return self.name.startswith(("admin:", "django_rq:"))

    def __str__(self) -> str:
        return f"{self.name} /{self.route}"


def _routes(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[Route]:
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            routes += _routes(pattern, route, inner)
        else:
            name = f"{namespace}:{pattern.name or ''}" if namespace else pattern.name or ""
            routes.append(Route(name, route, tuple(pattern.pattern.regex.groupindex)))
    return routes


ROUTES = _routes(get_resolver())
APP_ROUTES = [route for route in ROUTES if not route.in_admin]
ADMIN_ROUTES = [route for route in ROUTES if route.in_admin]


# -- the world the URLs point into ---------------------------------------------------------------


@pytest.fixture
def world(connector, marketer, sync_admin) -> dict:
    """One real row behind every path parameter (and every admin page)."""
    now = timezone.now()
    prospect = ProspectFactory(assigned_user=marketer, campaign=CampaignFactory())
    custom_field = CustomField.objects.create(api_name="matrix_note", label="Matrix note")
    # Public forms at the slug "matrix" (a form handler, a form, a landing page showing it).
    form = Form.objects.create(name="Matrix form", slug="matrix")
    form.fields.create(prospect_field="email", required=True)
    FormHandler.objects.create(name="Matrix handler", slug="matrix")
    LandingPage.objects.create(name="Matrix page", slug="matrix", title="Matrix", form=form)
    error = SyncError.objects.create(
        connector=connector,
        prospect=prospect,
        prospect_email=prospect.email,
        operation="update",
        sobject="Lead",
        error_code="STRING_TOO_LONG",
        category="data_formatting",
        message="data value too large",
        field="Customer_Comment__c",
        first_seen_at=now,
        last_seen_at=now,
    )
    SyncQueueItem.objects.create(prospect=prospect, reason=SyncReason.MANUAL, requested_at=now)
    SyncHistory.objects.create(
        prospect=prospect, at=now, direction="outbound", operation="update", result="ok"
    )
    SyncCursor.objects.create(connector=connector, sobject="Lead", watermark=now)
    SObjectDescribe.objects.create(connector=connector, sobject="Lead", data={}, fetched_at=now)
    ConnectorChange.objects.create(connector=connector, subject="settings", field="state")
    CrmQueue.objects.create(sf_id="00G000000000001AAA", name="West coast")
    Heartbeat.objects.create(name="cron", beat_at=now, count=1)
    AccessAttempt.objects.create(
        username="dana",
        ip_address="203.0.113.7",
        user_agent="matrix",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=now - timedelta(minutes=1),
    )
    # A plain RQ queue: django-rq's would wait for a commit that the test never makes.
    queue = Queue("default", connection=django_rq.get_connection("default"))
    job = queue.enqueue("core.jobs.record_heartbeat", name="matrix")
    worker = SimpleWorker([queue], connection=queue.connection, name=f"matrix-{job.id}")
    worker.register_birth()  # listed, never started
    sf_campaign = SalesforceCampaign.objects.create(
        sf_id="701000000000001AAA", name="Matrix webinar", is_active=True
    )
    CampaignMemberStatus.objects.create(
        campaign=sf_campaign, sf_id="01Y000000000001AAA", label="Sent", is_default=True
    )
    membership = CampaignMembership.objects.create(
        prospect=prospect, campaign=sf_campaign, status="Sent"
    )
    yield {
        "crm_campaign": sf_campaign.pk,
        "crm_membership": membership.pk,
        "crm_task": Task.objects.create(kind="campaign_add", created_by=marketer).pk,
        "automation_task": Task.objects.create(kind="bulk_action", created_by=marketer).pk,
        "prospects": prospect.pk,
        "error": error.pk,
        "errors_task": Task.objects.create(kind="errors_resync", created_by=marketer).pk,
        "errors_import_report": Task.objects.create(kind="errors_import", created_by=marketer).pk,
        "import": Import.objects.create(created_by=marketer, file_name="matrix.csv").pk,
        "scoring_task": Task.objects.create(kind="scoring_recompute", created_by=sync_admin).pk,
        "grading_profile": GradingProfile.objects.create(name="Matrix", is_default=True).pk,
        "api_import": Import.objects.create(
            created_by=marketer, file_name="api.csv", state=Import.State.DONE
        ).pk,
        "key": create_key(user=marketer, name="matrix")[0].pk,
        "field_rule": FieldRule.objects.filter(connector=connector).first().pk,
        "custom_field": custom_field.pk,
        "data_sharing": DataSharingRule.objects.create(
            connector=connector, sobject="Lead", field="Region__c", value="West"
        ).pk,
        "job_id": job.id,
        "worker_key": worker.key,
        "user": marketer.pk,
        "campaign": prospect.campaign_id,
        "automation_list": _automation_list(prospect).pk,
        "automation_rule": _automation_rule().pk,
        "content_type": ContentType.objects.get_for_model(prospect).pk,
        "account": Account.objects.create(sf_id="001000000000009AAA", name="Matrix Inc").pk,
        "custom_object": CustomObjectDefinition.objects.create(
            api_name="Matrix__c", label="Matrix", lookup_field="Account__c", lookup_to="Account"
        ).pk,
    }
    worker.register_death()
    job.delete()


def _automation_list(prospect):
    from automation.lists import add_members
    from automation.models import ProspectList

    static = ProspectList.objects.create(name="Matrix list")
    add_members(static, [prospect.pk])
    return static


def _automation_rule():
    from automation.models import Rule

    return Rule.objects.create(
        name="Matrix rule",
        criteria={"match": "all", "conditions": [{"field": "score", "op": "gte", "value": 50}]},
        actions=[{"type": "adjust_score", "points": 1}],
    )


def _pk_for(route: Route, world: dict) -> int:
    """The ``pk`` of a route: the object its name says it shows."""
    short = route.name.split(":", 1)[1]
    if route.name.startswith("automation:list"):
        return world["automation_list"]
    if route.name.startswith("automation:rule"):
        return world["automation_rule"]
    if route.name.startswith("crm:"):  # campaigns, memberships, the bulk add's task
        for key in ("campaign", "membership", "task"):
            if short.startswith(key):
                return world[f"crm_{key}"]
    api_objects = {
        "v1:sync-error": "error",
        "v1:campaign": "campaign",
        "v1:salesforce-campaign": "crm_campaign",
        "v1:import": "api_import",
        "key_revoke": "key",
    }
    for prefix, key in api_objects.items():
        if short.startswith(prefix):
            return world[key]
    for key in (
        "errors_task",
        "errors_import_report",
        "field_rule",
        "custom_field",
        "error",
        "scoring_task",
        "grading_profile",
        "import",
    ):
        if short.startswith(key):
            return world[key]
    if short.startswith("data_sharing"):
        return world["data_sharing"]
    if short.startswith("custom_object"):
        return world["custom_object"]
    if route.name == "automation:bulk_task":
        return world["automation_task"]
    if route.name == "crm:account":
        return world["account"]
    if route.name.startswith("intake:handler"):
        return FormHandler.objects.get(slug="matrix").pk
    if route.name.startswith("intake:form"):
        return Form.objects.get(slug="matrix").pk
    if route.name.startswith("intake:page"):
        return LandingPage.objects.get(slug="matrix").pk
    return world["prospects"]


def _admin_object_id(route: Route) -> str:
    """A real row of the model an admin URL is about (0 when the model has none)."""
    app_label, model_name = route.route.split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    first = model._default_manager.using(router.db_for_read(model)).order_by("pk").first()
    return str(first.pk) if first else "0"


def prospect_of(world: dict):
    from prospects.models import Prospect

    return Prospect.objects.get(pk=world["prospects"])


def _values(route: Route, world: dict) -> dict[str, list]:
    """Each path parameter's values (the wizard's step: every step)."""
    fixed = {
        "step": [1, 2, 3],
        "queue_index": [0],
        "scheduler_index": [0],
        "connection_index": [0],
        "job_id": [world["job_id"]],
        "id": [world["user"]],
        "content_type_id": [world["content_type"]],
        "app_label": ["prospects"],
        "url": ["no-such-page/"],
        "token": ["notatoken"],
        "uidb64": ["MQ"],
        "slug": ["matrix"],
        "key": [world["worker_key"]],
    }
    values = {}
    for param in route.params:
        if param == "pk":
            values[param] = [_pk_for(route, world)]
        elif param == "object_id":
            object_id = world["prospects"] if "content_type_id" in route.params else None
            values[param] = [object_id or _admin_object_id(route)]
        elif param == "token" and route.name.startswith("intake_public:"):
            values[param] = ["notatoken", make_token(prospect_of(world))]  # forged, and real
        else:
            values[param] = fixed.get(param, ["no-such-thing"])
    return values


def urls_for(route: Route, world: dict) -> list[str]:
    """Concrete paths for a route, each checked to resolve back to that very route."""
    paths = [route.route]
    for param, choices in _values(route, world).items():
        group = re.compile(rf"<(?:\w+:)?{param}>|\(\?P<{param}>[^)]*\)\??")
        paths = [group.sub(str(value), path, count=1) for path in paths for value in choices]
    urls = ["/" + re.sub(r"\^|\$|/\?|\\", lambda m: "/" if m[0] == "/?" else "", p) for p in paths]
    urls = [re.sub(r"/+", "/", url) for url in urls]
    for url in urls:
        match = resolve(url)
        name = f"{match.namespace}:{match.url_name or ''}" if match.namespace else match.url_name
        assert (name or "") == route.name, f"{url} resolves to {name}, not {route}"
    return urls


# -- what changed ------------------------------------------------------------------------------------


# Sessions store the visit itself; describes are Salesforce's metadata cached on first read; an
# API key notes when it was last used.
UNWATCHED = {Session, SObjectDescribe, ApiKey}


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of the rows of every model, in whichever database holds it."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or model in UNWATCHED:
            continue
        rows = list(
            model._base_manager.using(router.db_for_read(model)).order_by("pk").values_list()
        )
        state[meta.label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


def changed(before: dict, after: dict) -> list[str]:
    return [
        f"{label}: {before[label][0]} → {after[label][0]} rows"
        if before[label][0] != after[label][0]
        else f"{label}: rows changed"
        for label in before
        if before[label] != after[label]
    ]


# -- clients -------------------------------------------------------------------------------------------


@pytest.fixture
def clients(marketer, sync_admin) -> dict[str, Client]:
    marketer_client, admin_client = Client(), Client()
    marketer_client.force_login(marketer)
    admin_client.force_login(sync_admin)
    return {MARKETER: marketer_client, SYNC_ADMIN: admin_client}


@pytest.fixture
def key_clients(marketer, sync_admin) -> dict[str, Client]:
    """Each role's API client: its key in ``Authorization``, no session."""
    return {
        role: Client(HTTP_AUTHORIZATION=f"Bearer {create_key(user=user, name='matrix')[1]}")
        for role, user in ((MARKETER, marketer), (SYNC_ADMIN, sync_admin))
    }


@pytest.fixture
def superuser_admin_client(sync_admin) -> Client:
    """A Sync admin who is also a superuser: every model's admin pages open for them."""
    sync_admin.is_superuser = True
    sync_admin.save()
    client = Client()
    client.force_login(sync_admin)
    return client


# -- the matrix ----------------------------------------------------------------------------------------


def test_every_url_pattern_belongs_to_an_area():
    assert [str(route) for route in ROUTES if not route.area] == []
    assert len(ADMIN_ROUTES) > 100 and len(APP_ROUTES) > 30  # the resolver was walked


def _is_login_redirect(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("route", [r for r in APP_ROUTES if r.area not in (PUBLIC, API)], ids=str)
def test_anonymous_visitors_are_sent_to_login(route, world, client, request):
    before = snapshot()
    for url in urls_for(route, world):
        for method in ("POST", "GET"):
            response = client.generic(method, url)
            assert _is_login_redirect(response), f"{method} {url}: {response.status_code}"
    assert changed(before, snapshot()) == []


@pytest.mark.parametrize("route", [r for r in APP_ROUTES if r.area == API], ids=str)
def test_the_api_answers_401_without_a_key_and_403_to_a_key_without_a_role(route, world, client):
    nobody = UserFactory(username="no-role", is_staff=True, is_superuser=True)
    roleless = Client(HTTP_AUTHORIZATION=f"Bearer {create_key(user=nobody, name='matrix')[1]}")
    before = snapshot()
    for url in urls_for(route, world):
        for method in ("POST", "GET", "PATCH"):
            status = client.generic(method, url).status_code
            assert status == 401, f"anonymous {method} {url}: {status}"
            status = roleless.generic(method, url).status_code
            assert status == 403, f"no role {method} {url}: {status}"
    assert changed(before, snapshot()) == []


def test_anonymous_visitors_of_the_admin_and_rq_dashboard_are_sent_to_login(world, client):
    before, wrong = snapshot(), []
    for route in ADMIN_ROUTES:
        for url in urls_for(route, world) if route.area != PUBLIC else []:
            for method in ("POST", "GET"):
                response = client.generic(method, url)
                if not _is_login_redirect(response):
                    wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert changed(before, snapshot()) == []


@pytest.mark.parametrize("route", [r for r in APP_ROUTES if r.area == SYNC_ADMIN], ids=str)
def test_a_marketer_gets_403_from_sync_admin_pages_and_changes_nothing(
    route, world, clients, request
):
    before = snapshot()
    for url in urls_for(route, world):
        for method in ("POST", "GET"):
            status = clients[MARKETER].generic(method, url).status_code
            assert status == 403, f"{method} {url}: {status}"
    assert changed(before, snapshot()) == []


def test_a_marketer_gets_403_from_the_admin_and_rq_dashboard(world, clients):
    before, wrong = snapshot(), []
    for route in ADMIN_ROUTES:
        for url in urls_for(route, world) if route.area != PUBLIC else []:
            for method in ("POST", "GET"):
                status = clients[MARKETER].generic(method, url).status_code
                if status != 403:
                    wrong.append(f"{method} {url}: {status}")
    assert not wrong, "\n".join(wrong)
    assert changed(before, snapshot()) == []


def _get_problem(client: Client, url: str, before: dict, *, may_refuse: bool = False) -> str:
    """What is wrong with GETting ``url`` (refused, crashed or wrote), or ""."""
    response = client.get(url)
    if response.status_code >= 500 or (response.status_code == 403 and not may_refuse):
        return f"GET {url}: {response.status_code}"
    if writes := changed(before, snapshot()):
        return f"GET {url} wrote: {writes}"
    return ""


@pytest.mark.parametrize(
    ("route", "role"),
    [
        (route, role)
        for route in APP_ROUTES
        for role in (MARKETER, SYNC_ADMIN)
        if not (route.area == SYNC_ADMIN and role == MARKETER)  # 403, tested above
    ],
    ids=lambda value: str(value),
)
def test_every_get_changes_nothing(route, role, world, clients, key_clients, request):
    urls = urls_for(route, world)
    client = key_clients[role] if route.area == API else clients[role]
    problems = [_get_problem(client, url, snapshot()) for url in urls]
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


def test_every_admin_and_rq_dashboard_get_changes_nothing(world, superuser_admin_client):
    """403 is fine here: the read-only admins refuse their add and delete pages."""
    before = snapshot()
    problems = [
        _get_problem(superuser_admin_client, url, before, may_refuse=True)
        for route in ADMIN_ROUTES
        for url in urls_for(route, world)
    ]
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)

"""Verify that the connector user can still do what syncing needs.

Runs on demand (the connector page, the wizard) and on a schedule (``verify_all`` from RQ cron).
It authenticates, refreshes the describe cache, checks the baseline object permissions
(reference 1c), the managed package's fields and access to every mapped field, and saves the
outcome on the connector: ``verified_at``, ``problems`` (exactly what is missing) and the state
(active ⇄ needs attention; a paused connector stays paused).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.utils import timezone

from crm.models import CustomObjectDefinition
from sync import describe as describes
from sync import settings_history
from sync.engine.package import EXTERNAL_ID
from sync.mapping import PACKAGE_FIELDS
from sync.models import Connector, FieldRule
from sync.owner_queues import refresh_queues
from sync.salesforce import Client, SalesforceError

log = logging.getLogger(__name__)

# Baseline object permissions of the connector user (Pardot's list, reference 1c).
# "View All"/"Modify All" are not visible through describe; read/create/edit are.
BASELINE: list[tuple[str, tuple[str, ...]]] = [
    ("Lead", ("read", "create", "edit")),
    ("Contact", ("read", "create", "edit")),
    ("Account", ("read",)),
    ("Opportunity", ("read",)),
    ("Campaign", ("read", "create", "edit")),
    ("CampaignMember", ("read", "create", "edit")),
    ("Task", ("read", "edit")),
    ("User", ("read",)),
]
FLAG = {"read": "queryable", "create": "createable", "edit": "updateable"}
DESCRIBED = tuple(name for name, _ in BASELINE)


@dataclass
class CheckLine:
    """One line of the checklist: green when ``ok``, otherwise ``detail`` says what is missing."""

    kind: str  # auth, package, object, field
    label: str
    ok: bool
    detail: str = ""
    sobject: str = ""
    field: str = ""


@dataclass
class Verification:
    checks: list[CheckLine] = field(default_factory=list)
    user: dict = field(default_factory=dict)
    instance_url: str = ""

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.checks)

    @property
    def problems(self) -> list[CheckLine]:
        return [line for line in self.checks if not line.ok]

    def section(self, kind: str) -> list[CheckLine]:
        return [line for line in self.checks if line.kind == kind]


def check_package(descs: dict[str, dict | None]) -> list[CheckLine]:
    """Step 1 of the wizard: the managed package's ``pi__`` fields exist on Lead and Contact,
    and the connector user may write its external id (no create goes without it)."""
    lines = []
    for sobject in ("Lead", "Contact"):
        name = EXTERNAL_ID[sobject]
        item = describes.field_describe(descs.get(sobject), name) or {}
        usable = bool(item.get("externalId") and item.get("createable"))
        detail = "" if usable else "missing or not editable"  # as the engine flags it
        lines.append(CheckLine("package", f"{sobject}.{name}", usable, detail, sobject, name))
        for name in PACKAGE_FIELDS.values():
            found = describes.field_describe(descs.get(sobject), name) is not None
            lines.append(
                CheckLine(
                    "package",
                    f"{sobject}.{name}",
                    found,
                    "" if found else "missing",
                    sobject,
                    name,
                )
            )
    return lines


def check_objects(descs: dict[str, dict | None]) -> list[CheckLine]:
    lines = []
    for sobject, needed in BASELINE:
        desc = descs.get(sobject) or {}
        missing = [perm for perm in needed if not desc.get(FLAG[perm])]
        label = f"{sobject}: {', '.join(needed)}"
        detail = f"cannot {', '.join(missing)} {sobject} records" if missing else ""
        lines.append(CheckLine("object", label, not missing, detail, sobject))
    return lines


def check_fields(connector: Connector, descs: dict[str, dict | None]) -> list[CheckLine]:
    """Access on every mapped field: read always; edit unless Salesforce is the master."""
    lines = []
    rules = connector.field_rules.exclude(behaviour=FieldRule.Behaviour.DONT_SYNC)
    for rule in rules:
        writes = rule.behaviour != FieldRule.Behaviour.SALESFORCE
        for sobject, target in (("Lead", rule.lead_field), ("Contact", rule.contact_field)):
            if not target:
                continue
            lines.append(_field_line(descs.get(sobject), sobject, target, writes))
    return lines


def _field_line(desc: dict | None, sobject: str, target: str, writes: bool) -> CheckLine:
    label = f"{sobject}.{target}"
    item = describes.field_describe(desc, target)
    if item is None:
        return CheckLine(
            "field", label, False, "cannot read it (missing or hidden)", sobject, target
        )
    if writes and not (item.get("updateable") or item.get("createable")):
        return CheckLine("field", label, False, "cannot edit it", sobject, target)
    if writes and not item.get("updateable"):
        return CheckLine(
            "field", label, False, "can set it on create but not update it", sobject, target
        )
    return CheckLine("field", label, True, "read and edit" if writes else "read", sobject, target)


def check_custom_objects(client: Client) -> list[CheckLine]:
    """Read access on every mirrored custom object, its lookup and its shown fields: a lost
    object or field is a finding (the pull skips the object meanwhile), never a crash."""
    lines = []
    for definition in CustomObjectDefinition.objects.all():
        name = definition.api_name
        try:
            desc = client.describe(name, refresh=True)
        except SalesforceError as exc:
            if exc.transient:
                raise
            detail = f"cannot read {name} records (a mirrored custom object: {exc.code})"
            lines.append(CheckLine("object", f"{name}: read", False, detail, name))
            continue
        if not desc.get("queryable", True):
            detail = f"cannot read {name} records (a mirrored custom object)"
            lines.append(CheckLine("object", f"{name}: read", False, detail, name))
            continue
        lines.append(CheckLine("object", f"{name}: read", True, "read", name))
        for field_name in dict.fromkeys([definition.lookup_field, *definition.field_names]):
            lines.append(_field_line(desc, name, field_name, writes=False))
    return lines


def run_checks(*, connector: Connector, client: Client, mirror_queues: bool = True) -> Verification:
    """Authenticate, refresh describes, build the checklist. Never raises SalesforceError.

    ``mirror_queues`` also mirrors the org's lead queues into ``CrmQueue``; a page that only
    shows the live checklist (the wizard's step 2, opened with a GET) passes False.
    """
    result = Verification()
    try:
        result.instance_url = client.authenticate().instance_url
        result.user = client.identity()
        descs = describes.refresh_describes(connector=connector, client=client, sobjects=DESCRIBED)
    except SalesforceError as exc:
        result.checks.append(
            CheckLine("auth", "Authenticate the connector user", False, _auth_detail(exc))
        )
        return result
    who = result.user.get("Username") or connector.username or "connector user"
    result.checks.append(CheckLine("auth", f"Authenticate as {who}", True, "signed in"))
    result.checks += check_package(descs) + check_objects(descs) + check_fields(connector, descs)
    try:
        result.checks += check_custom_objects(client)
    except SalesforceError as exc:  # transient: this run cannot tell; the next one will
        log.warning("could not check the mirrored custom objects: %s", exc.code)
    if not mirror_queues:
        return result
    try:  # the queues prospects may be assigned to; not being able to read them blocks nothing
        count = refresh_queues(client)
        result.checks.append(CheckLine("queues", "Read lead and contact queues", True, f"{count}"))
    except SalesforceError as exc:
        log.warning("could not read the org's queues: %s", exc.code)
    return result


def _auth_detail(exc: SalesforceError) -> str:
    return f"{exc.message} ({exc.code})"


def verify_connector(*, connector: Connector, client: Client | None = None) -> Verification:
    """Run the checks and save the outcome on the connector.

    1. Run the checklist (authentication, package, objects, mapped fields).
    2. Store ``problems`` and ``verified_at``.
    3. Move active → needs attention when something is lost, and back when all is green.
    """
    result = run_checks(connector=connector, client=client or Client.for_connector(connector))
    problems = [{k: v for k, v in asdict(line).items() if k != "ok"} for line in result.problems]
    now = timezone.now()
    found = {"problems": problems, "verified_at": now}
    if result.instance_url:
        found["instance_url"] = result.instance_url
    Connector.objects.filter(pk=connector.pk).update(**found)
    State = Connector.State
    old, new = (
        (State.ACTIVE, State.NEEDS_ATTENTION) if problems else (State.NEEDS_ATTENTION, State.ACTIVE)
    )
    if Connector.objects.filter(pk=connector.pk, state=old).update(state=new) == 1:
        settings_history.record_changes(
            connector=connector,
            user=None,
            subject="verification",
            before={"state": State(old).label},
            after={"state": State(new).label},
        )
    connector.refresh_from_db(fields=["problems", "verified_at", "state", "instance_url"])
    return result


def verify_all() -> int:
    """Verify the connector unless it is paused (the scheduled job); returns how many ran.

    A connector stopped by a failed login is verified too: that is how it comes back.
    """
    connector = Connector.objects.current()
    if connector is None or connector.state == Connector.State.PAUSED:
        return 0
    verify_connector(connector=connector)
    return 1


def problem_messages(connector: Connector) -> list[str]:
    """What the banner says: one sentence per lost permission or failure."""
    out = []
    for problem in connector.problems or []:
        label = problem.get("label", "")
        detail = problem.get("detail", "")
        if problem.get("kind") == "auth":
            out.append(f"Authentication failed: {detail}")
        elif problem.get("kind") == "package":
            out.append(f"{label} is missing: install the Leadbridge package in the org.")
        elif problem.get("kind") == "object":
            out.append(f"The connector user {detail}.")
        else:
            out.append(f"{label}: the connector user {detail}." if detail else label)
    return out

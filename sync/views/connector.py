"""Connector, settings, setup wizard and field sync pages for Sync admins (issue 5).

Thin views: check the role, bind a form, call one function in ``sync.connectors``,
``sync.verification`` or ``sync.mapping``, redirect with a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.roles import sync_admin_required
from sync import connectors, mapping, settings_history, verification
from sync import describe as describes
from sync.forms import ConnectionForm, FieldRuleForm, SettingsForm
from sync.models import Connector, FieldRule
from sync.salesforce import Client, SalesforceError

WIZARD_STEPS = [
    (1, "Connect & package"),
    (2, "Connector user"),
    (3, "Map fields"),
]


def _require_connector() -> Connector:
    connector = Connector.objects.current()
    if connector is None:
        raise Http404("No connector yet")
    return connector


def _salesforce_message(exc: SalesforceError) -> str:
    """Plain words for the form: Salesforce's own description first."""
    prefix = {
        "invalid_grant": "Salesforce refused the credentials",
        "invalid_client_id": "Salesforce does not know this client id",
        "invalid_client": "Salesforce refused the client id or secret",
        "TLS_ERROR": "The connection is not trusted",
        "CONNECTION_ERROR": "The login URL cannot be reached",
        "TIMEOUT": "The login URL did not answer in time",
        "INVALID_URL": "The login URL is not usable",
        "LOGIN_HOST_NOT_ALLOWED": "The login URL is not allowed",
        "LOGIN_REDIRECT": "The login URL redirects elsewhere",
        "INVALID_INSTANCE_URL": "Salesforce answered with an unusable instance URL",
    }.get(exc.code, "Salesforce answered with an error")
    return f"{prefix}: {exc.message} ({exc.code})"


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page a button was pressed on (the POSTed ``next``) when it is a page of
    this portal; anywhere else — another site, a scheme — goes to the connector page."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("sync:connector")


def _context(connector: Connector | None, **extra) -> dict:
    return {
        "connector": connector,
        "attention": verification.problem_messages(connector) if connector else [],
        **extra,
    }


# -- connector --------------------------------------------------------------------------------


@sync_admin_required
def connector_detail(request: HttpRequest) -> HttpResponse:
    connector = Connector.objects.current()
    if connector is None:
        return render(request, "sync/connector_none.html", _context(None))
    return render(
        request,
        "sync/connector_detail.html",
        _context(
            connector,
            settings_rows=_settings_rows(connector),
            changes=settings_history.recent_changes(connector=connector, limit=30),
            sharing_rules=connector.sharing_rules.all(),
            ca_summary=settings_history.snapshot(connector, ["ca_bundle"])["ca_bundle"],
        ),
    )


def _settings_rows(connector: Connector) -> list[tuple[str, str, str]]:
    form = SettingsForm(instance=connector)
    snap = settings_history.snapshot(connector, connectors.SETTINGS_FIELDS)
    return [
        (str(form.fields[name].label), snap[name] or "—", str(form.fields[name].help_text))
        for name in connectors.SETTINGS_FIELDS
    ]


@sync_admin_required
def connector_edit(request: HttpRequest) -> HttpResponse:
    """Create or edit the connection; saving tests it first and saves nothing on failure."""
    connector = Connector.objects.current() or Connector()
    form = ConnectionForm(request.POST or None, instance=connector)
    if request.method == "POST" and form.is_valid():
        try:
            check = connectors.save_connection(connector=form.instance, user=request.user)
        except SalesforceError as exc:
            form.add_error(None, _salesforce_message(exc))
        else:
            messages.success(
                request, f"Connected to {check.instance_url} as {check.username}. Settings saved."
            )
            return _back(request)
    return render(
        request, "sync/connector_form.html", _context(connector.pk and connector, form=form)
    )


@sync_admin_required
def connector_settings(request: HttpRequest) -> HttpResponse:
    connector = _require_connector()
    form = SettingsForm(request.POST or None, instance=connector)
    if request.method == "POST" and form.is_valid():
        changed = connectors.save_settings(connector=form.instance, user=request.user)
        messages.success(request, f"Saved {changed} change(s)." if changed else "Nothing changed.")
        return redirect("sync:connector")
    changes = settings_history.recent_changes(connector=connector, subject="settings", limit=20)
    return render(
        request, "sync/connector_settings.html", _context(connector, form=form, changes=changes)
    )


@sync_admin_required
@require_POST
def connector_verify(request: HttpRequest) -> HttpResponse:
    connector = _require_connector()
    result = verification.verify_connector(connector=connector)
    if result.ok:
        messages.success(request, "Verified: the connector user has everything syncing needs.")
    else:
        messages.warning(request, f"Verification found {len(result.problems)} problem(s).")
    return _back(request)


@sync_admin_required
@require_POST
def connector_state(request: HttpRequest) -> HttpResponse:
    connector = _require_connector()
    state = request.POST.get("state")
    if state not in (Connector.State.ACTIVE, Connector.State.PAUSED):
        return HttpResponse(status=400)
    try:
        connectors.set_state(connector=connector, state=state, user=request.user)
    except connectors.SettingsLocked as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Connector unpaused: records sync."
            if state == "active"
            else "Connector paused: nothing syncs until you unpause it.",
        )
    return _back(request)


# -- wizard -----------------------------------------------------------------------------------


@sync_admin_required
def wizard(request: HttpRequest, step: int = 1) -> HttpResponse:
    if step not in (1, 2, 3):
        raise Http404
    connector = Connector.objects.current()
    if step > 1 and connector is None:
        return redirect("sync:wizard", step=1)
    context = _context(connector, steps=WIZARD_STEPS, step=step)
    if step == 1:
        return _wizard_connect(request, connector, context)
    if step == 2:
        return _wizard_verify(request, connector, context)
    return _wizard_map(request, connector, context)


def _wizard_connect(
    request: HttpRequest, connector: Connector | None, context: dict
) -> HttpResponse:
    form = ConnectionForm(request.POST or None, instance=connector or Connector())
    package = None
    package_problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            connectors.save_connection(connector=form.instance, user=request.user)
        except SalesforceError as exc:
            form.add_error(None, _salesforce_message(exc))
        else:
            return redirect(reverse("sync:wizard", args=[1]) + "?checked=1")
    if connector is not None and request.method == "GET":
        try:
            descs = {
                name: describes.get_describe(connector=connector, sobject=name, refresh=True)
                for name in ("Lead", "Contact")
            }
            package = verification.check_package(descs)
        except SalesforceError as exc:  # the form was not submitted: say why beside the check
            package_problem = _salesforce_message(exc)
    context.update(
        form=form,
        package=package,
        package_ok=bool(package) and all(line.ok for line in package),
        package_problem=package_problem,
    )
    return render(request, "sync/wizard_connect.html", context)


def _wizard_verify(request: HttpRequest, connector: Connector, context: dict) -> HttpResponse:
    """Step 2: the connector user's checklist, checked live. Opening it saves no outcome (the
    connector's state and problems change on "Check again" or when step 3 is saved), so the
    banner of the last saved verification gives way to the live list."""
    result = verification.run_checks(
        connector=connector, client=Client.for_connector(connector), mirror_queues=False
    )
    context.update(
        attention=[],
        result=result,
        auth_lines=result.section("auth"),
        object_lines=result.section("object"),
        package_lines=result.section("package"),
        field_lines=sorted(
            result.section("field"),
            key=lambda line: (line.ok, line.sobject != "Lead", line.label.lower()),
        ),
    )
    return render(request, "sync/wizard_verify.html", context)


class BehaviourForm(forms.Form):
    """The wizard's mapping step: one behaviour choice per editable rule, by prospect field
    (a suggested rule may not be saved yet)."""

    PREFIX = "behaviour:"

    def __init__(self, *args, rules: list[FieldRule], **kwargs):
        super().__init__(*args, **kwargs)
        for rule in rules:
            if not rule.fixed:
                self.fields[self.PREFIX + rule.prospect_field] = forms.ChoiceField(
                    choices=FieldRule.Behaviour.choices,
                    initial=rule.behaviour,
                    label=rule.prospect_field,
                )

    def behaviours(self) -> dict[str, str]:
        return {name.removeprefix(self.PREFIX): v for name, v in self.cleaned_data.items()}


def _wizard_map(request: HttpRequest, connector: Connector, context: dict) -> HttpResponse:
    """Step 3: the mapping pre-filled from describe. Opening it saves nothing; saving it saves
    the pre-fill and the behaviours chosen, verifies and unpauses."""
    descs = describes.cached_describes(connector=connector)
    rules = mapping.suggest_mapping(connector=connector, describes=descs)
    form = BehaviourForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        return _save_mapping(request, connector, descs, form.behaviours())
    checks = mapping.check_all(connector=connector, describes=descs, rules=rules)
    labels = _labels()
    rows = [
        (
            rule,
            labels.get(rule.prospect_field, rule.prospect_field),
            None if rule.fixed else form[BehaviourForm.PREFIX + rule.prospect_field],
            checks.get(rule.prospect_field),
        )
        for rule in rules
    ]
    context.update(form=form, rows=rows)
    return render(request, "sync/wizard_map.html", context)


def _save_mapping(
    request: HttpRequest, connector: Connector, descs: dict, behaviours: dict[str, str]
) -> HttpResponse:
    mapping.apply_describe_defaults(connector=connector, describes=descs, user=request.user)
    changed = connectors.save_behaviours(
        connector=connector, behaviours=behaviours, user=request.user
    )
    result = verification.verify_connector(connector=connector)
    if not result.ok:
        messages.error(request, "Verification found problems; fix them before unpausing.")
        return redirect("sync:wizard", step=2)
    connectors.set_state(connector=connector, state=Connector.State.ACTIVE, user=request.user)
    messages.success(request, f"Mapping saved ({changed} change(s)). The connector is active.")
    return redirect("sync:connector")


def _labels() -> dict[str, str]:
    return {name: pfield.label for name, pfield in mapping.prospect_fields().items()}


# -- field rules ------------------------------------------------------------------------------


@sync_admin_required
def field_rules(request: HttpRequest) -> HttpResponse:
    connector = Connector.objects.current()
    if connector is None:
        return render(request, "sync/connector_none.html", _context(None))
    descs = describes.cached_describes(connector=connector)
    checks = mapping.check_all(connector=connector, describes=descs)
    rules = list(mapping.rules_for(connector))
    labels = _labels()
    rows = [
        (rule, labels.get(rule.prospect_field, rule.prospect_field), checks[rule.prospect_field])
        for rule in rules
    ]
    changes = (
        connector.changes.exclude(subject__in=["connection", "settings"])
        .exclude(subject__startswith="data sharing")
        .select_related("user")[:30]
    )
    return render(
        request,
        "sync/field_rules.html",
        _context(connector, rows=rows, changes=changes, described=bool(descs)),
    )


@sync_admin_required
def field_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    connector = _require_connector()
    rule = get_object_or_404(FieldRule, pk=pk, connector=connector)
    if rule.fixed:
        messages.info(request, f"{rule.prospect_field} is fixed: {rule.fixed_reason}")
        return redirect("sync:field_rules")
    descs = describes.cached_describes(connector=connector)
    form = FieldRuleForm(request.POST or None, instance=rule, describes_by_object=descs)
    if request.method == "POST" and form.is_valid():
        try:
            changed = connectors.save_rule(rule=form.instance, user=request.user)
        except IntegrityError:
            form.add_error(
                None, "That Salesforce field is already mapped to another prospect field."
            )
        else:
            messages.success(request, f"{rule.prospect_field}: saved {changed} change(s).")
            return redirect("sync:field_rules")
    labels = _labels()
    check = mapping.check_rule(rule=form.instance, describes=descs) if descs else None
    changes = connector.changes.filter(subject=rule.prospect_field).select_related("user")[:20]
    return render(
        request,
        "sync/field_rules_form.html",
        _context(
            connector,
            form=form,
            rule=rule,
            label=labels.get(rule.prospect_field, rule.prospect_field),
            check=check,
            changes=changes,
            field_options=_field_options(descs),
        ),
    )


@sync_admin_required
def field_rule_check(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the compatibility check for the targets typed so far (nothing saved)."""
    connector = _require_connector()
    rule = get_object_or_404(FieldRule, pk=pk, connector=connector)
    descs = describes.cached_describes(connector=connector)
    rule.lead_field = request.GET.get("lead_field", rule.lead_field).strip()
    rule.contact_field = request.GET.get("contact_field", rule.contact_field).strip()
    rule.behaviour = request.GET.get("behaviour", rule.behaviour)
    reasons = mapping.validate_rule(connector=connector, rule=rule, describes={})
    check = mapping.check_rule(rule=rule, describes=descs) if descs else None
    return render(
        request,
        "sync/field_rules_compat.html",
        {"check": check, "reasons": reasons, "described": bool(descs)},
    )


def _field_options(descs: dict) -> dict[str, list[dict]]:
    return {
        sobject.lower(): sorted(
            (
                {"name": f["name"], "label": f.get("label", ""), "type": f.get("type", "")}
                for f in (desc or {}).get("fields", [])
                if f.get("type") not in mapping.REFUSED_TYPES
            ),
            key=lambda f: f["name"],
        )
        for sobject, desc in descs.items()
    }

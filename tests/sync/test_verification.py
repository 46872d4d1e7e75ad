"""Verification against the sandbox org: what the connector user lost, named exactly."""

import pytest

from sync.models import Connector
from sync.verification import problem_messages, verify_all, verify_connector
from tests.fixtures.connector import sandbox_connector

PROFILE = "Leadbridge Connector"
pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(sandbox_org):
    return sandbox_connector(sandbox_org, state=Connector.State.ACTIVE)


@pytest.fixture
def revoke(sandbox_org):
    """Revoke/restore helpers that always restore what they changed."""
    undo = []

    def field(sobject, name, **perms):
        sandbox_org.control(
            "set_field_permission", profile=PROFILE, sobject=sobject, field=name, **perms
        )
        undo.append(("set_field_permission", {"sobject": sobject, "field": name}))

    def obj(sobject, **flags):
        sandbox_org.control("set_object_permission", profile=PROFILE, sobject=sobject, **flags)
        undo.append(("set_object_permission", {"sobject": sobject}))

    yield type("Revoke", (), {"field": staticmethod(field), "object": staticmethod(obj)})
    for action, params in reversed(undo):
        if action == "set_field_permission":
            sandbox_org.control(action, profile=PROFILE, readable=True, editable=True, **params)
        else:
            sandbox_org.control(
                action,
                profile=PROFILE,
                can_read=True,
                can_create=True,
                can_edit=True,
                can_delete=True,
                **params,
            )


def test_a_healthy_demo_org_verifies_all_green(connector):
    result = verify_connector(connector=connector)

    assert result.ok, [(line.label, line.detail) for line in result.problems]
    assert result.user["Username"] == "connector@acme.example"
    connector.refresh_from_db()
    assert connector.state == Connector.State.ACTIVE
    assert connector.problems == [] and connector.verified_at is not None


def test_revoking_edit_on_a_mapped_field_flags_exactly_that_field_and_restoring_clears_it(
    connector, sandbox_org
):
    sandbox_org.control(
        "set_field_permission", profile=PROFILE, sobject="Lead", field="Title", editable=False
    )
    try:
        result = verify_connector(connector=connector)
        connector.refresh_from_db()
        assert [(p.kind, p.label, p.detail) for p in result.problems] == [
            ("field", "Lead.Title", "cannot edit it")
        ]
        assert connector.state == Connector.State.NEEDS_ATTENTION
        assert problem_messages(connector) == ["Lead.Title: the connector user cannot edit it."]
    finally:
        sandbox_org.control(
            "set_field_permission", profile=PROFILE, sobject="Lead", field="Title", editable=True
        )

    result = verify_connector(connector=connector)
    connector.refresh_from_db()
    assert result.ok
    assert connector.problems == []
    assert connector.state == Connector.State.ACTIVE


def test_a_hidden_mapped_field_is_flagged_as_unreadable(connector, revoke):
    revoke.field("Contact", "Department", readable=False, editable=False)

    result = verify_connector(connector=connector)

    assert [(p.label, p.detail) for p in result.problems] == [
        ("Contact.Department", "cannot read it (missing or hidden)")
    ]


def test_losing_an_object_permission_names_the_object_and_the_permission(connector, revoke):
    revoke.object("Campaign", can_create=False)

    result = verify_connector(connector=connector)

    assert [(p.kind, p.detail) for p in result.problems] == [
        ("object", "cannot create Campaign records")
    ]
    assert problem_messages(connector) == ["The connector user cannot create Campaign records."]


def test_failing_authentication_puts_the_connector_in_needs_attention(connector):
    connector.password = "wrong-password"
    connector.save()

    result = verify_connector(connector=connector)

    connector.refresh_from_db()
    assert connector.state == Connector.State.NEEDS_ATTENTION
    assert [p.kind for p in result.problems] == ["auth"]
    assert "invalid_grant" in problem_messages(connector)[0]


def test_a_paused_connector_stays_paused_but_keeps_the_problems(connector, revoke):
    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.PAUSED)
    revoke.field("Lead", "Phone", editable=False)

    verify_connector(connector=connector)

    connector.refresh_from_db()
    assert connector.state == Connector.State.PAUSED
    assert [p["label"] for p in connector.problems] == ["Lead.Phone"]


def test_verify_all_skips_paused_connectors(connector):
    assert verify_all() == 1
    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.PAUSED)
    assert verify_all() == 0


def test_a_lost_field_flags_the_connector_but_the_rest_keeps_syncing(connector, sandbox_org):
    from prospects.factories import ProspectFactory, UserFactory
    from prospects.models import SyncReason, SyncStatus
    from prospects.sync_requests import request_sync
    from sync.jobs import push_pending

    sandbox_org.control(
        "set_field_permission", profile=PROFILE, sobject="Lead", field="Title", editable=False
    )
    try:
        verify_connector(connector=connector)
        connector.refresh_from_db()
        assert connector.state == Connector.State.NEEDS_ATTENTION and connector.may_sync
        owner = UserFactory(username="alice", email="alice@acme.example")
        prospect = ProspectFactory(assigned_user=owner, job_title="", state="", country="")
        request_sync(prospect, SyncReason.MANUAL)
        push_pending(connector.pk)
        prospect.refresh_from_db()
        assert prospect.sync_status == SyncStatus.SYNCED and prospect.crm_lead_id
    finally:
        sandbox_org.control(
            "set_field_permission", profile=PROFILE, sobject="Lead", field="Title", editable=True
        )


def test_a_failed_login_stops_syncing_until_verification_passes(connector):
    Connector.objects.filter(pk=connector.pk).update(
        state=Connector.State.NEEDS_ATTENTION,
        problems=[{"kind": "auth", "label": "Connection", "detail": "invalid_grant"}],
    )
    connector.refresh_from_db()
    assert not connector.may_sync and Connector.objects.syncing() is None

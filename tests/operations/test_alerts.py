"""Alerts: one email per incident when it opens, one when it resolves, to the Sync admins."""

import datetime as dt

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import Heartbeat
from operations.alerts import evaluate, find_problems
from operations.models import Incident
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync
from sync.jobs import push_pending
from sync.models import Connector, SyncError
from sync.verification import verify_connector
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db
PROFILE = "Leadbridge Connector"


@pytest.fixture
def ops_admin(db):
    return user_with_role("ops-admin", "Sync admin", email="ops@acme.example")


@pytest.fixture
def bystander(db):
    """A marketer with an address: alerts are not for them."""
    return user_with_role("ops-marketer", "Marketer", email="marketer@acme.example")


def _offline_connector(**extra) -> Connector:
    return Connector.objects.create(
        login_url="https://127.0.0.1:1", client_id="x", state=Connector.State.ACTIVE, **extra
    )


def test_revoking_a_mapped_field_mails_once_naming_it_and_restoring_mails_resolved(
    connector, sandbox_org, mailoutbox, ops_admin, bystander
):
    sandbox_org.control("revoke_field", sobject="Lead", field="Title", readable=True)
    try:
        verify_connector(connector=connector)
        evaluate()
        evaluate()  # still lost: no second mail

        assert len(mailoutbox) == 1
        mail = mailoutbox[0]
        assert mail.to == ["ops@acme.example"]
        assert "Lead.Title" in mail.subject
        assert "Lead.Title: the connector user cannot edit it." in mail.body
        assert "Leadbridge's changes to Job title (Lead.Title)" in mail.body
        assert Incident.objects.get().key == "Lead.Title"
    finally:
        sandbox_org.control("restore_field", sobject="Lead", field="Title")

    verify_connector(connector=connector)
    evaluate()
    evaluate()

    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject.startswith("[Leadbridge] Resolved")
    assert "Lead.Title" in mailoutbox[1].subject
    incident = Incident.objects.get()
    assert incident.resolved_at is not None and incident.last_notified_at >= incident.resolved_at


def test_the_banner_names_what_is_held_back_and_it_is_true(
    connector, sandbox_org, admin_client_, unique_email
):
    """Title read-only: a push carrying a job title is refused as an access Sync Error, one
    without it syncs — exactly what the banner says."""
    sandbox_org.control("revoke_field", sobject="Lead", field="Title", readable=True)
    try:
        verify_connector(connector=connector)
        owner = UserFactory(username="alice", email="alice@acme.example")
        carries = ProspectFactory(assigned_user=owner, email=unique_email(), job_title="CTO")
        plain = ProspectFactory(
            assigned_user=owner, email=unique_email(), job_title="", state="", country=""
        )
        for prospect in (carries, plain):
            request_sync(prospect, SyncReason.MANUAL)
        push_pending(connector.pk)
    finally:
        sandbox_org.control("restore_field", sobject="Lead", field="Title")

    plain.refresh_from_db()
    assert plain.sync_status == SyncStatus.SYNCED
    error = SyncError.objects.get(prospect=carries)
    assert error.category == "access" and "Title" in error.fields
    html = admin_client_.get(reverse("prospects:list")).content.decode()
    assert "Everything else keeps syncing" in html
    assert "syncing is held back" not in html
    assert "Held back: Leadbridge&#x27;s changes to Job title (Lead.Title)" in html


def test_a_spent_api_budget_opens_one_incident(mailoutbox, ops_admin):
    _offline_connector(api_max=1000, api_remaining=400, api_share=50)

    evaluate()
    evaluate()

    assert [m.subject for m in mailoutbox] == ["[Leadbridge] API budget spent: daily"]
    assert "600 of 1,000 used" in mailoutbox[0].body


@override_settings(ALERT_ERROR_SPIKE=3)
def test_an_error_spike_above_the_threshold_alerts_and_resolves_when_it_passes(
    mailoutbox, ops_admin
):
    now = timezone.now()
    for index in range(3):
        SyncError.objects.create(
            operation="create",
            error_code="STRING_TOO_LONG",
            category="data_formatting",
            message="x",
            field=f"F{index}",
            first_seen_at=now,
            last_seen_at=now,
        )
    evaluate(now=now)
    evaluate(now=now + dt.timedelta(minutes=16))

    assert [m.subject for m in mailoutbox] == [
        "[Leadbridge] Sync Errors spike: spike",
        "[Leadbridge] Resolved: Sync Errors spike: spike",
    ]
    assert "3 new Sync Errors in the last 15 minutes" in mailoutbox[0].body


@override_settings(ALERT_SILENT_MINUTES=5)
def test_a_silent_cron_is_reported_by_name(mailoutbox, ops_admin):
    Heartbeat.objects.create(name="cron", beat_at=timezone.now() - dt.timedelta(minutes=9))

    evaluate()

    assert len(mailoutbox) == 1
    assert "No heartbeat from 'cron'" in mailoutbox[0].body
    assert "(9 minutes)" in mailoutbox[0].body


@override_settings(ALERT_QUEUE_STUCK_MINUTES=30)
def test_a_stuck_queue_alerts_only_while_the_connector_syncs(mailoutbox, ops_admin):
    connector = _offline_connector()
    prospect = ProspectFactory()
    SyncQueueItem.objects.create(
        prospect=prospect,
        reason=SyncReason.MANUAL,
        requested_at=timezone.now() - dt.timedelta(minutes=45),
    )
    assert [f.kind for f in find_problems()] == ["queue"]

    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.PAUSED)
    assert find_problems() == []

    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.ACTIVE)
    evaluate()
    assert "The oldest of 1 pending prospects has waited 45 minutes" in mailoutbox[0].body


def test_a_mail_that_could_not_go_is_sent_at_the_next_evaluation(mailoutbox, ops_admin, settings):
    _offline_connector(api_max=100, api_remaining=0)
    settings.MAILERS = {"default": {"BACKEND": "tests.operations.test_alerts.FailingBackend"}}

    evaluate()
    assert Incident.objects.get().last_notified_at is None

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    evaluate()
    assert len(mailoutbox) == 1


def test_without_a_sync_admin_address_nothing_is_marked_sent(mailoutbox):
    user_with_role("no-address", "Sync admin", email="")
    _offline_connector(api_max=100, api_remaining=0)

    evaluate()

    assert mailoutbox == [] and Incident.objects.get().last_notified_at is None


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("no SMTP server")


def test_the_daily_digest_is_off_unless_asked_for(mailoutbox, ops_admin, settings):
    from operations.alerts import send_digest

    assert send_digest() is False and mailoutbox == []
    settings.ALERT_DAILY_DIGEST = True
    Incident.objects.create(kind="budget", key="daily", summary="spent", opened_at=timezone.now())

    assert send_digest() is True
    assert mailoutbox[0].subject == "[Leadbridge] Daily sync digest: 1 open incidents"
    assert "API budget spent - daily" in mailoutbox[0].body

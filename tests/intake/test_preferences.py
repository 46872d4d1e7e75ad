"""The preference centre: signed links, one-click unsubscribe, everyone with the email."""

import time
from unittest import mock
from urllib.parse import urlsplit

import pytest

from intake.preferences import links_for
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import ActivityType, Prospect, SyncQueueItem, SyncReason
from prospects.sync_requests import request_sync
from sync import jobs

pytestmark = pytest.mark.django_db


def push_until_done(connector) -> None:
    """The sync worker's pushes until the queue is empty (two prospects sharing an email go
    in turn: the second links to the record the first created or gets its own)."""
    for _ in range(4):
        SyncQueueItem.objects.update(not_before=None)
        jobs.push_pending(connector.pk)
        if not SyncQueueItem.objects.exists():
            return


def path(url: str) -> str:
    return urlsplit(url).path


def test_links_are_absolute_on_the_portal_url(settings):
    settings.PORTAL_URL = "https://leadbridge.acme.example/"
    prospect = ProspectFactory()
    links = links_for(prospect)
    assert links.unsubscribe.startswith("https://leadbridge.acme.example/p/")
    assert links.unsubscribe.endswith("/unsubscribe/")


def test_unsubscribe_get_only_asks(client):
    prospect = ProspectFactory(opted_out=False)
    response = client.get(path(links_for(prospect).unsubscribe))
    assert response.status_code == 200 and "Stop marketing email" in response.content.decode()
    prospect.refresh_from_db()
    assert not prospect.opted_out and not prospect.activities.exists()


def test_one_click_unsubscribe_opts_out_everyone_with_the_email(client):
    """RFC 8058: a POST with ``List-Unsubscribe=One-Click``, no CSRF token, answered 200."""
    one = ProspectFactory(email="same@example.com")
    two = ProspectFactory(email="SAME@example.com")
    other = ProspectFactory(email="other@example.com")
    csrf_client = type(client)(enforce_csrf_checks=True)
    response = csrf_client.post(
        path(links_for(one).unsubscribe),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    for prospect in (one, two):
        prospect.refresh_from_db()
        assert prospect.opted_out
        assert prospect.activities.get().type == ActivityType.UNSUBSCRIBE
        assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.UNSUBSCRIBE
        assert prospect.sync_history.get().actor_label == "Preference centre"
    other.refresh_from_db()
    assert not other.opted_out


def test_resubscribe_opts_everyone_back_in(client):
    one = ProspectFactory(email="back@example.com", opted_out=True)
    two = ProspectFactory(email="back@example.com", opted_out=True)
    url = path(links_for(two).resubscribe)
    assert "Receive marketing email" in client.get(url).content.decode()
    assert client.post(url).status_code == 200
    for prospect in (one, two):
        prospect.refresh_from_db()
        assert not prospect.opted_out
        assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.RESUBSCRIBE


def test_the_preference_form_saves_both_switches_for_everyone_with_the_email(client):
    one = ProspectFactory(email="pref@example.com")
    two = ProspectFactory(email="pref@example.com")
    url = path(links_for(one).preferences)
    response = client.post(url, {"do_not_email": "on"})
    assert response.status_code == 200 and "Your preferences are saved" in response.content.decode()
    for prospect in (one, two):
        prospect.refresh_from_db()
        assert (prospect.opted_out, prospect.do_not_email) == (False, True)
        assert prospect.activities.get().type == ActivityType.PREFERENCES
        assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.PREFERENCES


@pytest.mark.parametrize("action", ["preferences", "unsubscribe", "resubscribe"])
def test_a_forged_link_shows_a_clear_page_and_changes_nothing(client, action):
    prospect = ProspectFactory(opted_out=False)
    real = path(getattr(links_for(prospect), action))
    token = real.split("/")[2]
    forged_token = f"{prospect.pk + 1}:{token.split(':', 1)[1]}"
    for url in (real.replace(token, forged_token), real.replace(token, "garbage")):
        response = client.post(
            url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    prospect.refresh_from_db()
    assert not prospect.opted_out and not prospect.activities.exists()


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client, settings):
    settings.PREFERENCE_LINK_DAYS = 90
    prospect = ProspectFactory(opted_out=False)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 91 * 86400):
        url = path(links_for(prospect).unsubscribe)
    response = client.post(url)
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    prospect.refresh_from_db()
    assert not prospect.opted_out


def test_the_preference_pages_escape_the_email(client):
    prospect = ProspectFactory(email='"><script>x</script>@example.com')
    body = client.get(path(links_for(prospect).preferences)).content.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;" in body


@pytest.mark.django_db(transaction=True)
def test_unsubscribing_shows_in_salesforce_as_has_opted_out_of_email(client, connector, sf):
    """The done-when: a link unsubscribes every prospect with the email, and after a push the
    sandbox org's Lead says HasOptedOutOfEmail. The link is the unsynced twin's (the org's
    duplicate rule keeps a second Lead with that email out): the synced one follows it."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    email = f"optout.{time.time_ns()}@leadbridge-test.example"
    synced = ProspectFactory(email=email, assigned_user=owner)
    twin = ProspectFactory(email=email.upper(), assigned_user=None)
    request_sync(synced, SyncReason.INITIAL_SYNC)
    push_until_done(connector)
    lead = Prospect.objects.get(pk=synced.pk).crm_lead_id
    assert lead and sf.Lead.get(lead)["HasOptedOutOfEmail"] is False

    response = client.post(
        path(links_for(twin).unsubscribe),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Prospect.objects.filter(pk__in=[synced.pk, twin.pk], opted_out=True).count() == 2
    push_until_done(connector)
    assert sf.Lead.get(lead)["HasOptedOutOfEmail"] is True
    assert Prospect.objects.get(pk=synced.pk).sync_status == "synced"

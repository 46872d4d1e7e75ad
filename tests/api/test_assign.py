"""Assigning through the API (``POST /api/v1/prospects/{id}/assign/`` and ``/unassign/``): the
prospect page's assignment for scripts — a user or a queue, saved only when it changes, on the
timeline and in history with the key's user, synced with its reason."""

import pytest

from prospects.factories import ProspectFactory
from prospects.models import Activity, CrmQueue, SyncHistory, SyncQueueItem, SyncReason
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def _url(prospect, what="assign") -> str:
    return f"/api/v1/prospects/{prospect.pk}/{what}/"


def test_assign_to_a_user_saves_notes_and_syncs(api, marketer):
    rep = user_with_role("rep", "Marketer")
    prospect = ProspectFactory(assigned_user=None)
    response = api.post(_url(prospect), {"user": rep.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_user"] == rep.pk
    prospect.refresh_from_db()
    assert prospect.assigned_user == rep and prospect.assigned_queue is None
    assert "assigned_user" in prospect.field_changed_at
    item = SyncQueueItem.objects.get(prospect=prospect)
    assert item.reason == SyncReason.ASSIGNMENT_CHANGE
    note = SyncHistory.objects.get(prospect=prospect, operation="api")
    assert note.actor == marketer and note.changes[0]["field"] == "assigned_user"
    assert Activity.objects.get(prospect=prospect).title == f"Assigned to {rep}"


def test_assign_to_a_queue_takes_the_user_away(api):
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")
    prospect = ProspectFactory(assigned_user=user_with_role("old", "Marketer"))
    response = api.post(_url(prospect), {"queue": queue.pk}, format="json")
    assert response.status_code == 200, response.json()
    prospect.refresh_from_db()
    assert prospect.assigned_queue == queue and prospect.assigned_user is None


def test_assigning_to_whom_it_is_assigned_changes_nothing(api):
    rep = user_with_role("rep", "Marketer")
    prospect = ProspectFactory(assigned_user=rep)
    before = prospect.updated_at
    assert api.post(_url(prospect), {"user": rep.pk}, format="json").status_code == 200
    prospect.refresh_from_db()
    assert prospect.updated_at == before
    assert not SyncHistory.objects.filter(prospect=prospect).exists()
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_unassign(api):
    prospect = ProspectFactory(assigned_user=user_with_role("rep", "Marketer"))
    response = api.post(_url(prospect, "unassign"), format="json")
    assert response.status_code == 200 and response.json()["assigned_user"] is None
    prospect.refresh_from_db()
    assert prospect.assigned_user is None
    assert Activity.objects.get(prospect=prospect).title == "Unassigned"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "non_field_errors"),
        ({"user": "1"}, "user"),
        ({"user": 999999}, "user"),
        ({"queue": 999999}, "queue"),
        ({"owner": 1}, "owner"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(api, body, field):
    prospect = ProspectFactory(assigned_user=None)
    response = api.post(_url(prospect), body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    prospect.refresh_from_db()
    assert prospect.assigned_user is None


def test_a_user_and_a_queue_at_once_is_refused(api):
    rep = user_with_role("rep", "Marketer")
    queue = CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")
    prospect = ProspectFactory(assigned_user=None)
    response = api.post(_url(prospect), {"user": rep.pk, "queue": queue.pk}, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()
    prospect.refresh_from_db()
    assert prospect.assigned_user is None and prospect.assigned_queue is None


def test_users_without_a_role_inactive_users_and_inactive_queues_cannot_be_assigned(api):
    from prospects.factories import UserFactory

    nobody = UserFactory()  # no role
    gone = user_with_role("gone", "Marketer", is_active=False)
    closed = CrmQueue.objects.create(sf_id="00G000000000002AAA", name="Closed", is_active=False)
    prospect = ProspectFactory(assigned_user=None)
    for body in ({"user": nobody.pk}, {"user": gone.pk}, {"queue": closed.pk}):
        assert api.post(_url(prospect), body, format="json").status_code == 400, body
    prospect.refresh_from_db()
    assert prospect.assigned_user is None and prospect.assigned_queue is None


def test_a_key_without_a_role_gets_403_and_no_key_401(client):
    from prospects.factories import UserFactory
    from tests.api.conftest import key_client

    prospect = ProspectFactory(assigned_user=user_with_role("rep", "Marketer"))
    assert key_client(UserFactory()).post(_url(prospect, "unassign")).status_code == 403
    assert client.post(_url(prospect, "unassign")).status_code == 401
    prospect.refresh_from_db()
    assert prospect.assigned_user is not None

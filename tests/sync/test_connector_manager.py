""" "The connector to use": one manager, one meaning of syncing, the same answer everywhere."""

import pytest

from prospects.factories import ProspectFactory, UserFactory
from sync import jobs
from sync.errors.resync import resync_error, resync_state
from sync.models import Connector
from tests.fixtures.connector import sandbox_connector
from tests.sync.factories import ConnectorFactory
from tests.sync.factories_errors import SyncErrorFactory

pytestmark = pytest.mark.django_db

LOST_FIELD = {"kind": "field", "label": "Lead.Title", "detail": "cannot edit it"}
FAILED_LOGIN = {"kind": "auth", "label": "Authenticate", "detail": "invalid_grant"}


def test_without_a_connector_there_is_none_to_use():
    assert Connector.objects.current() is None
    assert Connector.objects.syncing() is None


def test_the_current_connector_is_the_first_whatever_its_state():
    first = ConnectorFactory(name="First", state=Connector.State.PAUSED)
    ConnectorFactory(name="Second", state=Connector.State.ACTIVE)
    assert Connector.objects.current() == first


@pytest.mark.parametrize(
    ("state", "problems", "syncs"),
    [
        (Connector.State.ACTIVE, [], True),
        (Connector.State.NEEDS_ATTENTION, [LOST_FIELD], True),
        (Connector.State.NEEDS_ATTENTION, [LOST_FIELD, FAILED_LOGIN], False),
        (Connector.State.PAUSED, [], False),
    ],
    ids=["active", "lost-field", "failed-login", "paused"],
)
def test_a_connector_syncs_when_active_or_flagged_for_anything_but_its_login(
    state, problems, syncs
):
    connector = ConnectorFactory(state=state, problems=problems)
    assert connector.may_sync is syncs
    assert Connector.objects.syncing() == (connector if syncs else None)


def test_only_the_current_connector_syncs():
    """Settings pages show the first connector: a second one never syncs behind their back."""
    ConnectorFactory(name="First", state=Connector.State.PAUSED)
    ConnectorFactory(name="Second", state=Connector.State.ACTIVE)
    assert Connector.objects.syncing() is None


def test_a_job_queued_for_another_connector_finds_none():
    connector = ConnectorFactory(state=Connector.State.ACTIVE)
    assert Connector.objects.syncing(connector.pk) == connector
    assert Connector.objects.syncing(connector.pk + 1) is None


def test_resync_of_an_error_syncs_through_a_connector_flagged_for_a_lost_field(sandbox_org):
    """Resync used to ask for state "active" only: a flagged connector that syncs answered
    "queued: the connector is paused" while the worker pushed the same prospects."""
    sandbox_connector(sandbox_org, state=Connector.State.NEEDS_ATTENTION, problems=[LOST_FIELD])
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(assigned_user=owner, state="", country="")
    error = SyncErrorFactory(prospect=prospect)

    assert resync_error(error=error).state == "queued"
    jobs.push_pending()

    assert resync_state(error=error).state == "cleared"

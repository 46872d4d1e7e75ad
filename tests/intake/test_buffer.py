"""The Redis buffer in front of form handler submissions: a worker that dies between taking and
storing loses nothing and stores nothing twice; without Redis the request stores the row."""

import pytest

from intake import buffer, received
from intake.models import ReceivedSubmission
from intake.received import process_received
from prospects.models import Activity, ActivityType, Prospect, SyncQueueItem

pytestmark = pytest.mark.django_db

URL = "/fh/contact-us/"


@pytest.fixture(autouse=True)
def buffered(monkeypatch):
    """The buffer on, whatever the database (it is SQLite's)."""
    monkeypatch.setattr(buffer, "in_use", lambda: True)


def post_three(client) -> None:
    for name in ("ann", "bob", "cy"):
        response = client.post(URL, {"email": f"{name}@example.com", "first_name": name})
        assert response.status_code == 302


def assert_applied_once(names: tuple[str, ...] = ("ann", "bob", "cy")) -> None:
    emails = [f"{name}@example.com" for name in names]
    assert sorted(Prospect.objects.values_list("email", flat=True)) == emails
    assert ReceivedSubmission.objects.count() == len(names)
    assert Activity.objects.filter(type=ActivityType.FORM_HANDLER).count() == len(names)
    assert SyncQueueItem.objects.count() == len(names)
    assert buffer.waiting() == 0


def test_a_post_waits_in_redis_until_the_worker_stores_and_applies_it(client, handler):
    post_three(client)
    assert buffer.waiting() == 3 and not ReceivedSubmission.objects.exists()
    assert process_received() == 3
    assert_applied_once()
    stored = ReceivedSubmission.objects.get(
        prospect_id=Prospect.objects.get(email="ann@example.com").pk
    )
    assert stored.key and stored.received_at < stored.processed_at


def test_a_worker_that_dies_after_taking_loses_nothing(client, handler, monkeypatch):
    post_three(client)

    def die(documents):
        raise SystemExit("killed between taking and storing")

    with monkeypatch.context() as dying:
        dying.setattr(received, "_stored", die)
        with pytest.raises(SystemExit):
            process_received()
    assert not ReceivedSubmission.objects.exists()
    assert process_received() == 0  # a live worker's take is its own until TAKE_TIMEOUT
    monkeypatch.setattr(buffer, "TAKE_TIMEOUT", 0)
    assert process_received() == 3
    assert_applied_once()


def test_a_take_stored_but_not_released_is_not_stored_twice(client, handler, monkeypatch):
    post_three(client)

    def die(takes):
        raise SystemExit("killed between storing and releasing")

    with monkeypatch.context() as dying:
        dying.setattr(buffer, "release", die)
        with pytest.raises(SystemExit):
            process_received()
    assert ReceivedSubmission.objects.count() == 3
    monkeypatch.setattr(buffer, "TAKE_TIMEOUT", 0)
    assert process_received() == 3
    assert process_received() == 0
    assert_applied_once()


def test_without_redis_the_request_stores_the_submission(client, handler, redis_down):
    post_three(client)
    assert ReceivedSubmission.objects.filter(outcome="pending").count() == 3
    assert process_received() == 3
    assert sorted(Prospect.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]


def test_what_waits_for_a_deleted_handler_goes_with_it(client, handler):
    post_three(client)
    handler.delete()
    assert process_received() == 0
    assert buffer.waiting() == 0
    assert not ReceivedSubmission.objects.exists() and not Prospect.objects.exists()

"""``POST /fh/<slug>/``: AMPSEA matching, the activity and sync, and every protection."""

import datetime as dt
import subprocess
from urllib.parse import parse_qs, urlsplit

import django_rq
import pytest
from django.core import mail
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from intake import buffer, received
from intake.models import ReceivedSubmission
from intake.received import process_received, process_received_job
from intake.visitor import COOKIE
from portal.wsgi import load_public_middleware
from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import (
    Activity,
    ActivityType,
    Prospect,
    ScoringRule,
    SyncQueueItem,
    SyncReason,
)
from tests.intake.conftest import make_handler

pytestmark = pytest.mark.django_db

URL = "/fh/contact-us/"


class PublicClientHandler(ClientHandler):
    """The test client's handler with the middleware production runs ``/fh/`` through
    (``portal.wsgi.PUBLIC_MIDDLEWARE``): every test here posts as gunicorn serves the post."""

    def load_middleware(self, is_async=False):
        load_public_middleware(self)


@pytest.fixture(autouse=True, params=["buffered", "direct"])
def path(request, monkeypatch) -> str:
    """Every test on both ways a post reaches the table: through the Redis buffer (SQLite's),
    and stored by the request itself (PostgreSQL's, and SQLite's when Redis is down)."""
    monkeypatch.setattr(buffer, "in_use", lambda: request.param == "buffered")
    return request.param


@pytest.fixture
def client():
    public = Client()
    public.handler = PublicClientHandler(enforce_csrf_checks=True)
    return public


def post(client, data, **headers):
    """POST as a visitor's browser would, then let the worker apply what was stored."""
    response = client.post(URL, data, headers=headers)
    process_received()
    return response


def test_a_new_email_creates_a_prospect_with_its_activity_and_sync(client, handler):
    response = post(client, {"email": "New.Person@Example.com", "first_name": "Nia"})
    assert response.status_code == 302
    assert response["Location"] == "https://www.acme.example/thanks"
    prospect = Prospect.objects.get(email__iexact="new.person@example.com")
    assert prospect.first_name == "Nia"
    activity = Activity.objects.get(prospect=prospect)
    assert activity.type == ActivityType.FORM_HANDLER
    assert activity.title == "Contact us"
    assert activity.details["values"]["first_name"] == "Nia"
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.FORM_HANDLER
    assert prospect.sync_history.get().actor_label == "Form handler Contact us"
    assert COOKIE in response.cookies


def test_a_known_email_updates_that_prospect(client, handler):
    known = ProspectFactory(email="dana@example.com", company="Old Co")
    post(client, {"email": "DANA@example.com", "company": "New Co"})
    assert Prospect.objects.filter(email__iexact="dana@example.com").count() == 1
    known.refresh_from_db()
    assert known.company == "New Co"
    assert SyncQueueItem.objects.get(prospect=known).reason == SyncReason.FORM_HANDLER
    assert known.activities.get().type == ActivityType.FORM_HANDLER


def test_two_prospects_sharing_an_email_the_most_recently_active_is_updated(client, handler):
    now = timezone.now()
    older = ProspectFactory(
        email="twin@example.com", company="A", last_activity_at=now - dt.timedelta(days=9)
    )
    recent = ProspectFactory(
        email="twin@example.com", company="B", last_activity_at=now - dt.timedelta(days=1)
    )
    post(client, {"email": "twin@example.com", "company": "C"})
    older.refresh_from_db()
    recent.refresh_from_db()
    assert (older.company, recent.company) == ("A", "C")
    assert not older.activities.exists() and recent.activities.count() == 1
    assert Prospect.objects.filter(email="twin@example.com").count() == 2


def test_the_visitor_cookie_picks_its_prospect_among_those_sharing_the_email(client, handler):
    now = timezone.now()
    mine = ProspectFactory(email="twin@example.com", last_activity_at=now - dt.timedelta(days=9))
    ProspectFactory(email="twin@example.com", last_activity_at=now)
    client.cookies[COOKIE] = _signed_cookie(mine.pk)
    post(client, {"email": "twin@example.com", "company": "Cookie Co"})
    mine.refresh_from_db()
    assert mine.company == "Cookie Co"


def test_a_cookie_naming_someone_else_does_not_capture_a_different_email(client, handler):
    other = ProspectFactory(email="first@example.com")
    client.cookies[COOKIE] = _signed_cookie(other.pk)
    post(client, {"email": "second@example.com", "company": "Second Co"})
    assert Prospect.objects.get(email="second@example.com").company == "Second Co"
    other.refresh_from_db()
    assert other.company != "Second Co"


def test_a_forged_cookie_is_ignored(client, handler):
    victim = ProspectFactory(email="victim@example.com")
    client.cookies[COOKIE] = f"{victim.pk}:forged"
    response = post(client, {"email": "attacker@example.com"})
    assert response.status_code == 302
    assert Prospect.objects.filter(email="attacker@example.com").exists()
    victim.refresh_from_db()
    assert not victim.activities.exists()


def test_the_cookie_set_by_one_submission_is_read_by_the_next(client, handler):
    post(client, {"email": "repeat@example.com"})
    ProspectFactory(
        email="repeat@example.com", last_activity_at=timezone.now() + dt.timedelta(hours=1)
    )
    post(client, {"email": "repeat@example.com", "company": "Second"})
    first = Prospect.objects.filter(email="repeat@example.com").order_by("pk").first()
    assert first.company == "Second"
    assert first.activities.count() == 2


def test_a_filled_honeypot_is_dropped_silently(client, handler):
    response = post(client, {"email": "bot@example.com", "leave_this_blank": "http://spam"})
    assert response.status_code == 302
    assert response["Location"] == "https://www.acme.example/thanks"
    assert not Prospect.objects.exists()


def test_more_than_the_limit_per_minute_gets_429(client, handler, settings):
    settings.FORM_RATE_LIMIT = 3
    statuses = [post(client, {"email": f"p{i}@example.com"}).status_code for i in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert Prospect.objects.count() == 3
    # Another address has its own budget.
    response = client.post(URL, {"email": "other@example.com"}, REMOTE_ADDR="198.51.100.9")
    process_received()
    assert response.status_code == 302


def test_the_rate_limit_can_be_switched_off(client, handler, settings):
    settings.FORM_RATE_LIMIT = 0
    assert {post(client, {"email": f"p{i}@example.com"}).status_code for i in range(25)} == {302}


def test_an_oversized_body_gets_413_and_changes_nothing(client, handler, settings):
    settings.FORM_MAX_BODY_BYTES = 1000
    response = post(client, {"email": "big@example.com", "message": "x" * 2000})
    assert response.status_code == 413
    assert not Prospect.objects.exists()


def test_allowed_origins(client, db):
    make_handler(allowed_origins="https://www.acme.example\nhttps://shop.acme.example")
    ok = {"email": "o@example.com"}
    assert post(client, ok, Origin="https://evil.example").status_code == 403
    assert post(client, ok, Referer="https://evil.example/form").status_code == 403
    assert post(client, ok, Origin="null").status_code == 403
    assert not Prospect.objects.exists()
    assert post(client, ok, Origin="https://shop.acme.example").status_code == 200
    assert post(client, ok, Referer="https://www.acme.example/contact").status_code == 200
    assert post(client, ok).status_code == 200  # no browser: curl, a server-side post


def test_missing_required_fields_redirect_to_the_error_url_with_reasons(client, handler):
    response = post(client, {"first_name": "No email"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.netloc == "www.acme.example" and location.path == "/oops"
    query = parse_qs(location.query)
    assert query["x"] == ["1"]
    assert query["errors"] == ["email"]
    assert query["error_email"] == ["This field is required."]
    assert not Prospect.objects.exists()


def test_an_invalid_value_is_an_error_with_its_reason(client, handler):
    response = post(client, {"email": "not-an-email"})
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["errors"] == ["email"]
    assert "valid email" in query["error_email"][0]


def test_without_an_error_url_the_error_page_says_what_is_missing(client, db):
    make_handler()
    response = post(client, {"first_name": "x"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_unknown_fields_are_ignored_and_noted_in_the_activity(client, handler):
    post(client, {"email": "u@example.com", "favourite_colour": "blue", "utm_source": "ad"})
    prospect = Prospect.objects.get(email="u@example.com")
    assert prospect.activities.get().details["unknown_fields"] == ["favourite_colour", "utm_source"]


def test_get_is_not_allowed_and_an_unknown_or_inactive_handler_is_404(client, handler):
    assert client.get(URL).status_code == 405
    assert client.post("/fh/nope/", {"email": "a@example.com"}).status_code == 404
    handler.is_active = False
    handler.save()
    assert post(client, {"email": "a@example.com"}).status_code == 404


def test_html_and_scripts_are_stored_as_typed(client, handler):
    value = "<script>alert('x')</script>"
    post(client, {"email": "x@example.com", "company": value, "message": value})
    prospect = Prospect.objects.get(email="x@example.com")
    assert prospect.company == value and prospect.comments == value


def test_completion_actions(client, db, run_jobs, django_capture_on_commit_callbacks):
    owner = UserFactory(username="owner", email="owner@acme.example")
    watcher = UserFactory(username="watcher", email="watcher@acme.example")
    campaign = CampaignFactory(name="Spring")
    make_handler(
        action_assign_user=owner,
        action_score=25,
        action_campaign=campaign,
        action_notify_user=watcher,
    )
    existing = ProspectFactory(email="e@example.com", score=10, assigned_user=None)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, {"email": "e@example.com"})
        post(client, {"email": "fresh@example.com"})
    existing.refresh_from_db()
    earned = ScoringRule.points_by_type().get(ActivityType.FORM_HANDLER, 0)
    assert earned > 0  # a submission scores (Pardot: +50), and the action adds its 25
    assert (existing.assigned_user, existing.score, existing.campaign) == (
        owner,
        10 + earned + 25,
        campaign,
    )
    fresh = Prospect.objects.get(email="fresh@example.com")
    assert (fresh.assigned_user, fresh.score, fresh.campaign) == (owner, earned + 25, campaign)
    assert fresh.activities.filter(type=ActivityType.SCORE_ADJUSTED, points=25).exists()
    assert SyncQueueItem.objects.get(prospect=fresh).reason == SyncReason.COMPLETION_ACTION
    run_jobs("default")
    assert [m.to for m in mail.outbox] == [["watcher@acme.example"]] * 2
    assert "e@example.com" in mail.outbox[0].subject


def test_a_completion_action_does_not_reassign_an_assigned_prospect(client, db):
    owner, other = UserFactory(username="owner"), UserFactory(username="other")
    make_handler(action_assign_user=owner)
    taken = ProspectFactory(email="t@example.com", assigned_user=other)
    post(client, {"email": "t@example.com"})
    taken.refresh_from_db()
    assert taken.assigned_user == other


def test_a_submission_that_changes_nothing_still_asks_for_a_sync(client, handler):
    known = ProspectFactory(email="same@example.com", company="Same")
    post(client, {"email": "same@example.com", "company": "Same"})
    assert SyncQueueItem.objects.get(prospect=known).reason == SyncReason.FORM_HANDLER
    assert known.activities.count() == 1


def _signed_cookie(prospect_id: int) -> str:
    """The cookie's value as a submission sets it."""
    from django.http import HttpResponse

    from intake.visitor import SALT

    response = HttpResponse()
    response.set_signed_cookie(COOKIE, str(prospect_id), salt=SALT)
    return response.cookies[COOKIE].value


# -- a real HTTP POST, from curl -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_curl_posts_to_a_live_server_as_ampsea_says(live_server):
    make_handler()
    now = timezone.now()
    older = ProspectFactory(email="shared@example.com", last_activity_at=now - dt.timedelta(days=3))
    recent = ProspectFactory(
        email="shared@example.com", last_activity_at=now - dt.timedelta(days=1)
    )

    def curl(*fields: str) -> str:
        args = [arg for field in fields for arg in ("-d", field)]
        done = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                *args,
                f"{live_server.url}{URL}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    assert curl("email=brand.new@example.com", "first_name=Curl") == "200"
    process_received_job()  # the worker's job
    assert Prospect.objects.get(email="brand.new@example.com").first_name == "Curl"
    assert curl("email=brand.new@example.com", "company=Updated") == "200"
    process_received_job()
    assert Prospect.objects.get(email="brand.new@example.com").company == "Updated"
    assert curl("email=shared@example.com", "company=Shared Co") == "200"
    process_received_job()
    older.refresh_from_db()
    recent.refresh_from_db()
    assert recent.company == "Shared Co" and older.company != "Shared Co"


def test_the_request_only_stores_the_submission_and_a_worker_applies_it(
    client, handler, path, run_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"email": "later@example.com", "first_name": "Lou"})
    assert response.status_code == 302
    assert not Prospect.objects.exists()
    if path == "buffered":
        assert buffer.waiting() == 1 and not ReceivedSubmission.objects.exists()
    else:
        assert ReceivedSubmission.objects.get().outcome == "pending"
    run_jobs("default")  # the wake-up job the request enqueued
    stored = ReceivedSubmission.objects.get()
    assert buffer.waiting() == 0
    prospect = Prospect.objects.get(email="later@example.com")
    assert (stored.outcome, stored.prospect_id) == ("created", prospect.pk)
    assert stored.processed_at is not None


def test_a_batch_applies_many_submissions_and_the_same_new_email_twice_makes_one_prospect(
    client, handler, settings
):
    settings.FORM_RATE_LIMIT = 0
    for i in range(30):
        client.post(URL, {"email": f"b{i % 20}@example.com", "first_name": f"B{i}"})
    assert process_received() == 30
    assert Prospect.objects.count() == 20
    assert Prospect.objects.get(email="b3@example.com").first_name == "B23"
    assert Activity.objects.filter(type=ActivityType.FORM_HANDLER).count() == 30
    assert SyncQueueItem.objects.filter(reason=SyncReason.FORM_HANDLER).count() == 20


def test_a_change_to_the_handler_or_its_mapping_applies_to_the_next_post(client, handler):
    assert post(client, {"email": "first@example.com"}).status_code == 302
    handler.fields.filter(external_name="company").update(required=True)
    refused = client.post(URL, {"email": "second@example.com"})
    assert "error_company" in parse_qs(urlsplit(refused["Location"]).query)
    handler.success_url = "https://www.acme.example/merci"
    handler.save()
    moved = client.post(URL, {"email": "third@example.com", "company": "Acme"})
    assert moved["Location"] == "https://www.acme.example/merci"
    handler.is_active = False
    handler.save()
    assert client.post(URL, {"email": "fourth@example.com"}).status_code == 404


def test_a_stream_of_posts_wakes_the_worker_once_and_its_job_applies_them_all(
    client, handler, run_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            client.post(URL, {"email": f"stream{i}@example.com"})
    assert django_rq.get_queue("default").count == 1
    run_jobs("default")
    assert Prospect.objects.filter(email__startswith="stream").count() == 5
    assert not ReceivedSubmission.objects.filter(processed_at__isnull=True).exists()


def test_a_job_out_of_time_leaves_what_waits_to_the_next_job(
    client, handler, run_jobs, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.FORM_RATE_LIMIT = 0
    for i in range(3):
        client.post(URL, {"email": f"late{i}@example.com"})
    for name, value in [("BATCH", 2), ("SQLITE_BATCH", 2), ("JOB_SECONDS", -1)]:
        monkeypatch.setattr(received, name, value)
    with django_capture_on_commit_callbacks(execute=True):
        assert process_received_job() == 2
    assert django_rq.get_queue("default").count == 1  # no post will come to ask for it
    run_jobs("default")
    assert Prospect.objects.filter(email__startswith="late").count() == 3

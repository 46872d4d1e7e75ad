"""Login throttling: a user and IP pair is locked out after repeated failures (issue 11, item 9)."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.idle_timeout import RENEW_EVERY, RENEWED_AT
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db
PASSWORD = "leadbridge-test"  # UserFactory's
ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def dana():
    return user_with_role("dana", "Marketer")


def _login(username: str, password: str, ip: str = ATTACKER, client: Client | None = None):
    client = client or Client(REMOTE_ADDR=ip)
    return client.post(reverse("login"), {"username": username, "password": password})


def _lock_out(username: str, ip: str = ATTACKER) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(username, "wrong", ip)


def test_repeated_failures_lock_the_user_out_from_that_ip_even_with_the_right_password(dana):
    _lock_out("dana")
    response = _login("dana", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session
    page = response.content.decode()
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() // 60
    assert "Too many failed attempts" in page
    assert f"try again in {minutes:.0f} minutes" in page
    assert "ask a Sync admin" in page
    assert PASSWORD not in page


def test_the_lockout_is_per_user_and_ip(dana):
    user_with_role("sam", "Marketer")
    _lock_out("dana")
    assert _login("dana", PASSWORD, OFFICE).status_code == 302  # dana, from the office
    assert _login("sam", PASSWORD, ATTACKER).status_code == 302  # another user, same IP


def test_fewer_failures_than_the_limit_still_let_the_user_in(dana):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login("dana", "wrong")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    assert _login("dana", PASSWORD).status_code == 302


def test_a_sync_admin_sees_the_lockout_and_unlocks_it(dana, admin_client_):
    _lock_out("dana")
    page = admin_client_.get(reverse("portal:lockouts"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "dana" in html and ATTACKER in html
    assert len(page.context["lockouts"]) == 1
    response = admin_client_.post(
        reverse("portal:unlock"), {"username": "dana", "ip_address": ATTACKER}
    )
    assert response.status_code == 302
    assert _login("dana", PASSWORD).status_code == 302


def test_marketers_cannot_see_or_lift_lockouts(dana, marketer_client):
    _lock_out("dana")
    assert marketer_client.get(reverse("portal:lockouts")).status_code == 403
    unlock = {"username": "dana", "ip_address": ATTACKER}
    assert marketer_client.post(reverse("portal:unlock"), unlock).status_code == 403
    assert _login("dana", PASSWORD).status_code == 429


def test_an_unlock_needs_a_post(dana, admin_client_):
    _lock_out("dana")
    unlock = {"username": "dana", "ip_address": ATTACKER}
    assert admin_client_.get(reverse("portal:unlock"), unlock).status_code == 405
    assert _login("dana", PASSWORD).status_code == 429


def test_changing_user_agents_does_not_escape_or_hide_the_lockout(dana, admin_client_):
    for number in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR=ATTACKER, HTTP_USER_AGENT=f"agent-{number}")
        _login("dana", "wrong", client=client)
    assert _login("dana", PASSWORD).status_code == 429
    lockouts = admin_client_.get(reverse("portal:lockouts")).context["lockouts"]
    assert [row["username"] for row in lockouts] == ["dana"]
    assert lockouts[0]["failures"] > settings.AXES_FAILURE_LIMIT  # the refused right one too


def test_attempted_passwords_are_not_stored(dana):
    from axes.models import AccessAttempt

    _login("dana", "my-old-password-2019")
    assert "my-old-password-2019" not in AccessAttempt.objects.get().post_data


def test_behind_trusted_proxies_the_forwarded_address_counts(dana, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}")
        _login("dana", "wrong", client=client)
    office = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=OFFICE)
    assert _login("dana", PASSWORD, client=office).status_code == 302
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"5.6.7.8, {ATTACKER}")
    assert _login("dana", PASSWORD, client=attacker).status_code == 429


def _renewed_a_while_ago(client: Client) -> None:
    session = client.session
    session[RENEWED_AT] = time.time() - 2 * RENEW_EVERY
    session.save()


def test_a_session_in_use_is_renewed_for_the_idle_timeout(marketer_client):
    _renewed_a_while_ago(marketer_client)
    response = marketer_client.get(reverse("portal:dashboard"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE == 60 * 60
    expires = Session.objects.get(pk=cookie.value).expire_date
    assert expires > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_requests_within_the_minute_do_not_write_the_session(marketer_client):
    marketer_client.get(reverse("portal:dashboard"))  # just logged in: renewed at login
    response = marketer_client.get(reverse("portal:dashboard"))
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_an_idle_session_is_sent_to_login(marketer_client):
    key = marketer_client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = marketer_client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

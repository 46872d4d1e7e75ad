"""Keys: who they act for, when they stop working, and the rate limit."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.management import CommandError, call_command

from api.models import ApiKey, hash_key, revoke_key
from prospects.factories import UserFactory
from tests.api.conftest import key_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/prospects/"


def test_a_marketers_key_uses_the_api(api):
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_sync_admins_key_uses_the_api(sync_admin):
    assert key_client(sync_admin).get(URL).status_code == 200


def test_a_user_without_a_role_gets_403(db):
    nobody = UserFactory(username="norole", is_staff=True, is_superuser=True)
    response = key_client(nobody).get(URL)
    assert response.status_code == 403
    assert "no Leadbridge role" in response.json()["detail"]


def test_a_deactivated_users_key_stops_working(marketer):
    api = key_client(marketer)
    assert api.get(URL).status_code == 200
    marketer.is_active = False
    marketer.save()
    response = api.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_key_stops_working(api):
    revoke_key(key=ApiKey.objects.get(hash=hash_key(api.key)))
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer lb_00000000_nope", "Bearer a b", "Bearer lb_x", "Token abc", "Bearer é"],
)
def test_missing_or_bad_keys_get_401(api, header):
    api.credentials(HTTP_AUTHORIZATION=header) if header else api.credentials()
    response = api.get(URL)
    assert response.status_code == 401, header
    assert "detail" in response.json()


def test_a_key_that_differs_in_its_secret_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key[:-2]}xx")
    assert api.get(URL).status_code == 401


def test_only_the_hash_is_stored_and_use_is_noted(api):
    row = ApiKey.objects.get()
    assert api.key not in {row.prefix, row.hash, row.name}
    assert row.hash == hash_key(api.key) and row.last_used_at is None
    api.get(URL)
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_the_rate_limit_answers_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT = "3/minute"
    caches["api"].clear()
    statuses = [api.get(URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get(URL)
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_the_rate_limit_is_per_key(marketer, settings):
    settings.API_RATE_LIMIT = "2/minute"
    caches["api"].clear()
    first, second = key_client(marketer), key_client(marketer)
    assert [first.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert second.get(URL).status_code == 200


def test_a_session_reads_the_api_only_with_a_role(client, marketer):
    assert client.get(URL).status_code == 401
    client.force_login(marketer)
    assert client.get(URL).status_code == 200


def test_the_command_prints_a_working_key_once(marketer, capsys):
    call_command("apikey", marketer.username, "--name", "Nightly")
    key = capsys.readouterr().out.strip()
    row = ApiKey.objects.get()
    assert row.name == "Nightly" and row.user == marketer and row.hash == hash_key(key)
    assert ApiKey.objects.authenticate(key) == row


def test_the_command_refuses_unknown_roleless_and_deactivated_users(marketer):
    nobody = UserFactory(username="norole")
    for username in ("ghost", nobody.username):
        with pytest.raises(CommandError):
            call_command("apikey", username)
    marketer.is_active = False
    marketer.save()
    with pytest.raises(CommandError):
        call_command("apikey", marketer.username)
    assert not ApiKey.objects.exists()
    assert Group.objects.filter(name="Marketer").exists()


def test_the_api_still_answers_when_redis_is_down(api, settings):
    """The rate limit is counted in Redis; without it requests are served, not refused."""
    settings.CACHES = {
        **settings.CACHES,
        "api": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    assert api.get(URL).status_code == 200

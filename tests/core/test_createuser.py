"""``manage.py createuser NAME --role marketer|sync-admin``: a user with a role, no superuser."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.roles import is_marketer, is_sync_admin
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db
PASSWORD = "violet-harbour-kettle-42"


@pytest.fixture(autouse=True)
def _roles():
    ensure_roles()


def _create(*args, **options) -> str:
    out = io.StringIO()
    call_command("createuser", *args, stdout=out, **options)
    return out.getvalue()


def test_it_creates_a_marketer_with_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("LEADBRIDGE_PASSWORD", PASSWORD)
    out = _create("dana", "--role", "marketer", "--email", "dana@acme.example")
    user = get_user_model().objects.get(username="dana")
    assert is_marketer(user) and not is_sync_admin(user)
    assert not user.is_staff and not user.is_superuser
    assert user.email == "dana@acme.example"
    assert user.check_password(PASSWORD)
    assert "Marketer" in out and PASSWORD not in out


def test_a_sync_admin_is_staff_so_the_admin_and_rq_dashboard_open(monkeypatch):
    monkeypatch.setenv("LEADBRIDGE_PASSWORD", PASSWORD)
    _create("sam", "--role", "sync-admin")
    user = get_user_model().objects.get(username="sam")
    assert is_sync_admin(user) and user.is_staff and not user.is_superuser


def test_it_prompts_twice_for_the_password(monkeypatch):
    monkeypatch.delenv("LEADBRIDGE_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    _create("pat", "--role", "marketer")
    assert get_user_model().objects.get(username="pat").check_password(PASSWORD)


def test_mismatched_prompts_create_nobody(monkeypatch):
    monkeypatch.delenv("LEADBRIDGE_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="did not match"):
        _create("pat", "--role", "marketer")
    assert not get_user_model().objects.filter(username="pat").exists()


def test_a_weak_password_is_refused_with_the_validators_reasons(monkeypatch):
    monkeypatch.setenv("LEADBRIDGE_PASSWORD", "12345")
    with pytest.raises(CommandError, match="too short"):
        _create("weak", "--role", "marketer")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_an_existing_username_is_refused(monkeypatch, marketer):
    monkeypatch.setenv("LEADBRIDGE_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        _create(marketer.username, "--role", "sync-admin")
    assert not is_sync_admin(get_user_model().objects.get(pk=marketer.pk))


def test_an_unknown_role_is_refused():
    with pytest.raises(CommandError, match="role"):
        _create("x", "--role", "superuser")

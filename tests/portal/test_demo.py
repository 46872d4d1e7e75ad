"""The demo stays out of production (issue 11, item 13). That no app imports the sandbox is an
import-linter contract (``make lint``); tests/portal/test_deploy.py starts without it."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.roles import is_marketer, is_sync_admin
from portal.demo import load_demo_users
from tests.conftest import ensure_roles


@pytest.mark.django_db
def test_loaddemo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("loaddemo")
    assert not get_user_model().objects.filter(username__in=["admin", "marketer"]).exists()


@pytest.mark.django_db
def test_the_demo_users_hold_their_roles_and_only_the_admin_is_staff():
    ensure_roles()
    admin, marketer = load_demo_users()
    assert is_sync_admin(admin) and admin.is_staff
    assert is_marketer(marketer) and not is_sync_admin(marketer) and not marketer.is_staff
    assert load_demo_users() == [admin, marketer]  # idempotent

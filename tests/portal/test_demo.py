"""The demo stays out of production (issue 11, item 13)."""

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.roles import is_marketer, is_sync_admin
from portal.demo import load_demo_users
from tests.conftest import ensure_roles

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "portal", "prospects", "sync"]


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


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("app", APPS)
def test_no_app_imports_the_sandbox(app):
    """The sandbox is a separate system the connector reaches over HTTPS; it may be absent."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / app).rglob("*.py")
        if any(name.split(".")[0] == "sandbox" for name in _imported_modules(path))
    ]
    assert offenders == []

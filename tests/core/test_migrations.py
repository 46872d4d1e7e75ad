"""The shared models' move from ``portal`` to ``core`` keeps data and grants, old DB or new."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import Heartbeat, Task
from core.roles import ROLES
from prospects.factories import UserFactory


def _migrate(targets: list) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def _latest() -> list:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db
def test_a_fresh_database_has_the_roles_with_core_permissions():
    for name, codes in ROLES.items():
        granted = Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
        assert sorted(granted) == sorted(codes), name
    assert not ContentType.objects.filter(app_label="portal").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_rows_and_grants():
    """Roll back to main's schema (portal owns the models), write as the old code did, upgrade."""
    _migrate([("core", None)])
    try:
        use_portal = Permission.objects.get(content_type__app_label="portal", codename="use_portal")
        group = Group.objects.create(name="Old marketers")
        group.permissions.add(use_portal)
        member = UserFactory(username="old-member")
        member.groups.add(group)
        direct = UserFactory(username="old-direct")
        direct.user_permissions.add(use_portal)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO portal_task (kind, state, total, done, failed, message, result,"
                " created_at, created_by_id) VALUES ('import', 'done', 3, 3, 0, '', '{}',"
                " CURRENT_TIMESTAMP, %s)",
                [member.pk],
            )
            cursor.execute(
                "INSERT INTO portal_heartbeat (name, beat_at, count)"
                " VALUES ('cron', CURRENT_TIMESTAMP, 7)"
            )
    finally:
        _migrate(_latest())

    for username in ("old-member", "old-direct"):
        user = type(member).objects.get(username=username)  # fresh: no permission cache
        assert user.has_perm("core.use_portal"), username
    assert Task.objects.get().created_by == member
    assert Heartbeat.objects.get(name="cron").count == 7
    assert set(ContentType.objects.filter(app_label="core").values_list("model", flat=True)) == {
        "portalpermissions",
        "heartbeat",
        "task",
    }
    assert not ContentType.objects.filter(app_label="portal").exists()

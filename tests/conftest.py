import pytest
from django.contrib.auth.models import Group

from core.roles import ROLES
from prospects.factories import UserFactory

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.connector", "tests.fixtures.jobs"]


def pytest_configure(config) -> None:
    """Hash test passwords cheaply: PBKDF2's deliberate second per login would add minutes."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure_roles() -> None:
    """The role groups, as the migrations make them (a transactional test's flush
    removes them)."""
    from django.contrib.auth.models import Permission

    for name, codes in ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created or not group.permissions.exists():
            for app_label, codename in codes:
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )


def user_with_role(username: str, role: str, **extra):
    """A user holding ``role`` (a group name of core.roles.ROLES)."""
    ensure_roles()
    user = UserFactory(username=username, **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def marketer(db):
    return user_with_role("marketer-test", "Marketer")


@pytest.fixture
def sync_admin(db):
    return user_with_role("admin-test", "Sync admin", is_staff=True)


@pytest.fixture
def admin_user(db):
    """pytest-django's ``admin_user`` (and so ``admin_client``), with the Sync admin role: a
    superuser without a role gets 403 like anyone else (core/roles.py)."""
    return user_with_role("admin", "Sync admin", is_staff=True, is_superuser=True)


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def admin_client_(client, sync_admin):
    client.force_login(sync_admin)
    return client


@pytest.fixture
def _no_session_renewal(monkeypatch):
    """Counting tests hold still what expires with the clock, or a slow machine crossing a
    deadline between two counts adds a query to one of them:

    - the idle timeout renews a session at most once a minute (``portal.idle_timeout``);
    - the open Sync Errors badge and tabs are cached for 5 seconds (``sync.errors.records``):
      they start empty here and, once filled, stay for the test.
    """
    from django.core.cache import cache

    from sync.errors import records

    monkeypatch.setattr("portal.idle_timeout.RENEW_EVERY", 10**9)
    monkeypatch.setattr(records, "COUNT_CACHE_SECONDS", 10**6)
    cache.delete_many([records.COUNT_CACHE_KEY, records.CATEGORY_CACHE_KEY])
    yield
    cache.delete_many([records.COUNT_CACHE_KEY, records.CATEGORY_CACHE_KEY])


@pytest.fixture
def django_assert_num_queries(_no_session_renewal, django_assert_num_queries):
    return django_assert_num_queries


@pytest.fixture
def django_assert_max_num_queries(_no_session_renewal, django_assert_max_num_queries):
    return django_assert_max_num_queries

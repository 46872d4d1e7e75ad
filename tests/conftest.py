import pytest
from django.contrib.auth.models import Group

from prospects.factories import UserFactory

pytest_plugins = ["tests.fixtures.sandbox"]


def _user_with_role(username: str, role: str, **extra):
    user = UserFactory(username=username, **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def marketer(db):
    return _user_with_role("marketer-test", "Marketer")


@pytest.fixture
def sync_admin(db):
    return _user_with_role("admin-test", "Sync admin", is_staff=True)


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def admin_client_(client, sync_admin):
    client.force_login(sync_admin)
    return client

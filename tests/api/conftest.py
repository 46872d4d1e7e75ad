import pytest
from rest_framework.test import APIClient

from api.models import create_key


def key_client(user) -> APIClient:
    """A client sending a fresh key of ``user`` as ``Authorization: Bearer``."""
    _row, key = create_key(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.key = key
    return client


@pytest.fixture
def api(marketer) -> APIClient:
    return key_client(marketer)


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    """Each test has its own budget (the count lives in Redis, across tests)."""
    settings.API_RATE_LIMIT = "100000/minute"

"""Numbers no column can hold are a filter that matches nothing or everything, never a 500."""

import pytest

from prospects.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def test_the_prospect_list_takes_a_score_bound_beyond_any_integer(marketer_client):
    ProspectFactory(score=5, email="in@example.com")
    response = marketer_client.get("/prospects/?score_min=-9223372036854775809&score_max=10")
    assert response.status_code == 200
    assert "in@example.com" in response.content.decode()
    response = marketer_client.get("/prospects/?score_min=99999999999999999999999")
    assert response.status_code == 200
    assert "in@example.com" not in response.content.decode()


def test_the_sync_errors_search_takes_a_prospect_id_beyond_any_integer(marketer_client):
    response = marketer_client.get("/sync/errors/?q=" + "9" * 30)
    assert response.status_code == 200

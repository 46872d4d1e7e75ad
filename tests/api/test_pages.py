"""My API keys (the user's own page), the docs and the schema."""

import pytest
from django.test import Client

from api.models import ApiKey, create_key
from prospects.factories import UserFactory
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db
KEYS = "/api/keys/"


def test_a_new_key_is_shown_once_and_works(marketer_client):
    response = marketer_client.post(KEYS, {"name": "Nightly <b>sync</b>"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = response.context["new_key"]
    assert key.startswith("lb_") and key in response.content.decode()
    assert "Nightly &lt;b&gt;sync&lt;/b&gt;" in response.content.decode()
    again = marketer_client.get(KEYS).content.decode()
    assert key not in again and ApiKey.objects.get().shown in again
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/prospects/").status_code == 200


def test_a_key_needs_a_name(marketer_client):
    response = marketer_client.post(KEYS, {"name": ""})
    assert response.context["new_key"] is None and not ApiKey.objects.exists()


def test_revoking_stops_the_key_and_only_the_owner_may(marketer_client, marketer):
    row, key = create_key(user=marketer, name="Old script")
    other_row, _ = create_key(user=user_with_role("other", "Marketer"), name="Theirs")
    assert marketer_client.post(f"/api/keys/{other_row.pk}/revoke/").status_code == 404
    response = marketer_client.post(f"/api/keys/{row.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/prospects/").status_code == 401
    assert "Old script" not in marketer_client.get(KEYS).content.decode()
    other_row.refresh_from_db()
    assert other_row.revoked_at is None


def test_users_without_a_role_get_403_and_anonymous_the_login_page(client):
    assert client.get(KEYS).status_code == 302
    assert client.get("/api/docs/").status_code == 302
    client.force_login(UserFactory(username="norole"))
    assert client.get(KEYS).status_code == 403
    assert client.get("/api/docs/").status_code == 403


def test_the_user_menu_links_to_the_keys_and_the_docs(marketer_client):
    page = marketer_client.get("/").content.decode()
    assert 'href="/api/keys/"' in page and 'href="/api/docs/"' in page


def test_the_docs_page_serves_swagger_ui_from_our_own_static_files(marketer_client):
    page = marketer_client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()


def test_the_schema_answers_a_key_or_a_marketers_session(marketer, marketer_client):
    _row, key = create_key(user=marketer, name="codegen")
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    keyed = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT="application/json")
    schema = keyed.get("/api/schema/").json()
    assert schema["openapi"].startswith("3.") and "/api/v1/prospects/upsert/" in schema["paths"]
    assert marketer_client.get("/api/schema/").status_code == 200

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prospects.factories import ProspectFactory
from sync.models import Connector, SyncError


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_open_sync_errors_show_as_a_badge(marketer_client):
    prospect = ProspectFactory()
    now = timezone.now()
    for code in ("STRING_TOO_LONG", "INVALID_EMAIL_ADDRESS"):
        SyncError.objects.create(
            prospect=prospect,
            operation="create",
            error_code=code,
            category="data_formatting",
            message="x",
            field=code,
            first_seen_at=now,
            last_seen_at=now,
        )
    html = marketer_client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="error-badge">2</span>' in html


@pytest.mark.django_db
def test_sync_admins_see_what_the_connector_lost_and_marketers_do_not(sync_admin, marketer):
    Connector.objects.create(
        login_url="https://127.0.0.1:1",
        client_id="x",
        state=Connector.State.NEEDS_ATTENTION,
        problems=[
            {
                "kind": "field",
                "label": "Lead.Region__c",
                "detail": "is not editable",
                "sobject": "Lead",
                "field": "Region__c",
            }
        ],
    )
    admin_client, marketer_client = Client(), Client()
    admin_client.force_login(sync_admin)
    marketer_client.force_login(marketer)
    html = admin_client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="connector-attention"' in html and "Region__c" in html
    html = marketer_client.get(reverse("portal:dashboard")).content.decode()
    assert "connector-attention" not in html

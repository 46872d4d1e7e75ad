"""Large pushes go through Bulk API 2.0: creates in one upsert job, matching by one scan."""

import uuid

import pytest

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncStatus
from sync.engine import outbound
from sync.engine.outbound import push_prospects
from sync.models import SyncError
from sync.salesforce import Client, parse_bulk_error

pytestmark = pytest.mark.django_db


def test_a_large_push_uses_one_bulk_job_and_bad_rows_fail_alone(
    connector, sandbox_org, monkeypatch
):
    monkeypatch.setattr(outbound, "BULK_MIN", 50)
    owner = UserFactory(username="alice", email="alice@acme.example")
    domain = f"bulk-{uuid.uuid4().hex[:8]}.example"
    existing = sandbox_org.admin().Contact.create({"LastName": "Known", "Email": f"p0@{domain}"})
    prospects = [
        ProspectFactory.build(email=f"p{i}@{domain}", assigned_user=owner) for i in range(120)
    ]
    prospects[7].custom_fields = {}
    prospects[7].notes = "z" * 150  # too long for Customer_Comment__c
    Prospect.objects.bulk_create(prospects)
    ids = list(Prospect.objects.filter(email__endswith=domain).values_list("pk", flat=True))
    client = Client.for_connector(connector)
    report = push_prospects(connector=connector, prospect_ids=ids, client=client)
    assert report.synced == 119 and report.failed == 1
    assert client.api_calls < 40  # Collections would need 1 + 2×1 + 1 + … per 200 and more
    matched = Prospect.objects.get(email=f"p0@{domain}")
    assert matched.crm_contact_id == existing["id"]
    error = SyncError.objects.get(prospect__email=f"p7@{domain}")
    assert error.error_code == "STRING_TOO_LONG" and error.field == "Customer_Comment__c"
    leads = sandbox_org.admin().query_all(f"SELECT Id FROM Lead WHERE Email LIKE '%@{domain}'")[
        "records"
    ]
    assert len(leads) == 118
    assert Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count() == 119


def test_bulk_errors_parse_like_rest_errors():
    error = parse_bulk_error(
        "STRING_TOO_LONG:Customer Comment: data value too large: zzz (max length=100):Customer_Comment__c --"
    )
    assert error.code == "STRING_TOO_LONG" and error.fields == ["Customer_Comment__c"]
    assert error.message.startswith("Customer Comment: data value too large")
    assert parse_bulk_error(
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    ).fields == ["LastName"]

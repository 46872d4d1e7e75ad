"""The demo's failing prospects are refused by the org for real, one category or more each."""

import pytest

from portal.demo import failing_demo_prospects, map_sales_notes
from prospects.factories import UserFactory
from prospects.models import CustomField, Prospect
from sync.engine.outbound import push_prospects
from sync.errors.records import ErrorCategory, categorize
from sync.models import FieldRule, SyncError

pytestmark = pytest.mark.django_db


def test_the_demo_failures_cover_every_category_of_the_guide(connector):
    # Map Customer_Comment__c as the demo does (the fixture maps it from notes).
    FieldRule.objects.filter(connector=connector, prospect_field="notes").update(
        lead_field="", contact_field=""
    )
    CustomField.objects.create(api_name="customer_comment", label="Customer comment")
    FieldRule.objects.create(
        connector=connector,
        prospect_field="custom:customer_comment",
        lead_field="Customer_Comment__c",
        contact_field="Customer_Comment__c",
    )
    map_sales_notes(connector)
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospects = failing_demo_prospects(owner)
    for prospect in prospects:
        prospect.email = f"{prospect.last_name.lower()}.{id(prospect)}@demo-errors.example"
    Prospect.objects.bulk_create(prospects)
    ids = list(Prospect.objects.values_list("pk", flat=True))
    report = push_prospects(connector=connector, prospect_ids=ids)
    assert report.failed == len(ids), report.outcomes
    errors = SyncError.objects.filter(prospect_id__in=ids)
    found = {categorize(e.error_code, e.message, e.fields) for e in errors}
    assert found == set(ErrorCategory), {(e.error_code, e.message) for e in errors}
    blocked = errors.get(prospect__company="Blocked Industries")
    assert blocked.error_code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert "LeadTrigger" in blocked.message

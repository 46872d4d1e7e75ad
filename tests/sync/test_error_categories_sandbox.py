"""One real rejection per category from the sandbox org, recorded as a Sync Errors row.

Each test pushes a prospect through the engine (``push_prospects``) to the live sandbox org over
HTTPS and checks the row the refusal left: code, category, field, value sent, the constraint.
The ``connector`` fixture (tests/fixtures/connector.py) maps ``notes`` to ``Customer_Comment__c``.
"""

import pytest

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncStatus
from sync.engine.outbound import push_prospects
from sync.models import Connector, ErrorCategory, FieldRule, SyncError

pytestmark = pytest.mark.django_db

CONNECTOR_PROFILE = "Leadbridge Connector"


def _push(connector, **fields):
    prospect = ProspectFactory(assigned_user=UserFactory(), **fields)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    return prospect, SyncError.objects.open().filter(prospect=prospect)


def test_a_too_long_comment_is_a_data_formatting_error(connector, unique_email):
    prospect, errors = _push(connector, email=unique_email(), notes="x" * 143)
    error = errors.get()
    assert (error.error_code, error.category) == ("STRING_TOO_LONG", ErrorCategory.DATA_FORMATTING)
    assert error.field == "Customer_Comment__c"
    assert "max length=100" in error.message
    assert error.value_sent == "x" * 143
    assert error.constraint == "Customer_Comment__c allows 100 characters; this value has 143"
    assert (error.sobject, error.operation) == ("Lead", "create")
    assert prospect.sync_status == SyncStatus.ERROR


def test_an_unknown_state_is_a_data_formatting_error(connector, unique_email):
    _, errors = _push(connector, email=unique_email(), country="United States", state="Narnia")
    error = errors.get()
    assert error.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert error.category == ErrorCategory.DATA_FORMATTING
    assert error.field == "State"


def test_losing_create_permission_is_an_access_error(connector, sandbox_org, unique_email):
    sandbox_org.control(
        "set_object_permission", profile=CONNECTOR_PROFILE, sobject="Lead", can_create=False
    )
    try:
        _, errors = _push(connector, email=unique_email())
    finally:
        sandbox_org.control(
            "set_object_permission", profile=CONNECTOR_PROFILE, sobject="Lead", can_create=True
        )
    error = errors.get()
    assert error.error_code.startswith("INSUFFICIENT_ACCESS")
    assert error.category == ErrorCategory.ACCESS


def test_a_validation_rule_is_a_process_alignment_error(connector, unique_email):
    _, errors = _push(connector, email=unique_email(), phone="call me maybe")
    error = errors.get()
    assert error.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert error.category == ErrorCategory.PROCESS_ALIGNMENT


def test_the_lead_duplicate_rule_is_a_process_alignment_error(connector, sf, unique_email):
    email = unique_email("dup")
    sf.Lead.create({"LastName": "Existing", "Company": "Acme", "Email": email})
    Connector.objects.filter(pk=connector.pk).update(match_by_email=False)
    connector.refresh_from_db()
    _, errors = _push(connector, email=email)
    error = errors.get()
    assert error.error_code == "DUPLICATES_DETECTED"
    assert error.category == ErrorCategory.PROCESS_ALIGNMENT


def test_a_lookup_mapped_to_the_wrong_object_is_a_customization_error(connector, sf, unique_email):
    lead_id = sf.query("SELECT Id FROM Lead LIMIT 1")["records"][0]["Id"]
    Connector.objects.filter(pk=connector.pk).update(new_record_type=Connector.RecordType.CONTACT)
    connector.refresh_from_db()
    FieldRule.objects.filter(connector=connector, prospect_field="territory").update(
        contact_field="ReportsToId", behaviour=FieldRule.Behaviour.LEADBRIDGE
    )
    _, errors = _push(connector, email=unique_email(), territory=lead_id)
    error = errors.get()
    assert error.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert error.category == ErrorCategory.CUSTOMIZATION
    assert error.field == "ReportsToId"

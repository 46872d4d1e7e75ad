"""sync/errors.py: the one mapping from Salesforce codes to categories, recording, resolving."""

import threading

import pytest
from django.db import connection

from prospects.factories import ProspectFactory
from prospects.models import Direction, SyncStatus
from sync.errors.records import (
    categorize,
    describe_constraint,
    fix_in_salesforce,
    open_counts_by_category,
    open_error_count,
    record_sync_error,
    resolve_errors,
)
from sync.models import ErrorCategory, SyncError

from .factories_errors import ConnectorFactory, fresh_counts  # noqa: F401

F, A, P, C = (
    ErrorCategory.DATA_FORMATTING,
    ErrorCategory.ACCESS,
    ErrorCategory.PROCESS_ALIGNMENT,
    ErrorCategory.CUSTOMIZATION,
)


@pytest.mark.parametrize(
    ("code", "fields", "message", "category"),
    [
        ("STRING_TOO_LONG", ["Customer_Comment__c"], "max length=100", F),
        ("INVALID_TYPE", [], "sObject type 'Lead' is not supported.", A),
        ("INVALID_TYPE_ON_FIELD_IN_RECORD", ["Seats__c"], "", F),
        ("JSON_PARSER_ERROR", [], "", F),
        ("NUMBER_OUTSIDE_VALID_RANGE", ["Budget__c"], "", F),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Product_Interest__c"], "", F),
        ("INVALID_EMAIL_ADDRESS", ["Email"], "", F),
        ("FIELD_INTEGRITY_EXCEPTION", ["State"], "problem with this state", F),
        ("FIELD_INTEGRITY_EXCEPTION", [], "There's a problem with this country", F),
        ("FIELD_INTEGRITY_EXCEPTION", ["OwnerId"], "id value of incorrect type", C),
        ("INSUFFICIENT_ACCESS_OR_READONLY", [], "", A),
        ("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", [], "", A),
        ("INVALID_FIELD_FOR_INSERT_UPDATE", ["Sales_Notes__c"], "", A),
        ("INVALID_FIELD", [], "No such column", A),
        ("INVALID_CROSS_REFERENCE_KEY", ["OwnerId"], "", A),
        ("ENTITY_IS_DELETED", [], "", A),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", ["Phone"], "", P),
        ("REQUIRED_FIELD_MISSING", ["LastName"], "", P),
        ("DUPLICATES_DETECTED", [], "", P),
        ("DUPLICATE_VALUE", ["pi__Pardot_Prospect_Id__c"], "", P),
        ("CANNOT_UPDATE_CONVERTED_LEAD", [], "", P),
        ("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", [], "MyTrigger: execution of AfterInsert", C),
        ("SOMETHING_NEW", [], "", C),
        ("", [], "", C),
        ("string_too_long", [], "", F),
    ],
)
def test_categorize_maps_each_code_to_the_guides_category(code, fields, message, category):
    assert categorize(code, message, fields) == category


def _record(prospect, code="STRING_TOO_LONG", field="Customer_Comment__c", value="x" * 143):
    return record_sync_error(
        connector=ConnectorFactory(),
        prospect=prospect,
        direction=Direction.OUTBOUND,
        operation="update",
        sobject="Lead",
        record_id="00Q000000000001AAA",
        error_code=code,
        message="Customer Comment: data value too large (max length=100)",
        fields=[field] if field else [],
        value_sent=value,
        constraint="Customer_Comment__c allows 100 characters; this value has 143",
    )


@pytest.mark.django_db
def test_it_opens_one_row_and_marks_the_prospect_errored():
    prospect = ProspectFactory()
    row = _record(prospect)
    assert (row.category, row.attempts, row.field) == (F, 1, "Customer_Comment__c")
    assert row.first_seen_at == row.last_seen_at
    assert row.prospect_email == prospect.email
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.ERROR


@pytest.mark.django_db
def test_a_repeat_bumps_attempts_and_refreshes_the_value():
    prospect = ProspectFactory()
    first = _record(prospect)
    again = _record(prospect, value="y" * 150)
    assert again.pk == first.pk
    assert again.attempts == 2
    assert again.value_sent == "y" * 150
    assert again.last_seen_at >= first.first_seen_at == again.first_seen_at
    assert SyncError.objects.count() == 1


@pytest.mark.django_db
def test_another_field_or_code_is_another_row():
    prospect = ProspectFactory()
    _record(prospect)
    _record(prospect, field="Phone")
    _record(prospect, code="DUPLICATES_DETECTED", field="")
    assert SyncError.objects.open().count() == 3


@pytest.mark.django_db
def test_resolve_clears_every_open_error_and_a_new_refusal_opens_a_new_row():
    prospect = ProspectFactory()
    old = _record(prospect)
    _record(prospect, field="Phone")
    assert resolve_errors(prospect_ids=[prospect.pk]) == 2
    old.refresh_from_db()
    assert old.resolved_at is not None
    assert old.resolution == SyncError.Resolution.CLEAN_SYNC
    new = _record(prospect)
    assert new.pk != old.pk and new.attempts == 1
    assert resolve_errors(prospect_ids=[prospect.pk], resolution=SyncError.Resolution.MANUAL) == 1


@pytest.mark.django_db
def test_resolve_errors_of_a_batch_of_prospects():
    first, second, third = ProspectFactory.create_batch(3)
    for prospect in (first, second, third):
        _record(prospect)
    assert resolve_errors(prospect_ids=[first.pk, second.pk]) == 2
    assert list(SyncError.objects.open().values_list("prospect_id", flat=True)) == [third.pk]


@pytest.mark.django_db
def test_an_error_without_a_prospect_is_still_kept():
    _record(None)
    _record(None)
    assert SyncError.objects.filter(prospect=None).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_recording_at_once_leave_one_open_row():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    prospect = ProspectFactory()
    ConnectorFactory()
    barrier = threading.Barrier(4)
    failures = []

    def worker():
        try:
            barrier.wait()
            _record(prospect)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    row = SyncError.objects.get()
    assert row.attempts == 4


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_counts")
def test_open_counts(django_assert_max_num_queries):
    prospect = ProspectFactory()
    _record(prospect)
    _record(prospect, code="DUPLICATES_DETECTED", field="")
    with django_assert_max_num_queries(1):
        counts = open_counts_by_category()
    assert counts == {F: 1, A: 0, P: 1, C: 0}
    assert open_error_count() == 2


COMMENT = {"name": "Customer_Comment__c", "type": "string", "length": 100}


@pytest.mark.parametrize(
    ("describe", "value", "sentence"),
    [
        (COMMENT, "x" * 143, "Customer_Comment__c allows 100 characters; this value has 143"),
        (
            {
                "name": "Product_Interest__c",
                "type": "picklist",
                "restrictedPicklist": True,
                "picklistValues": [
                    {"value": "Widgets", "active": True},
                    {"value": "Gadgets", "active": True},
                    {"value": "Old", "active": False},
                ],
            },
            "Gizmos",
            "Product_Interest__c accepts only: Widgets, Gadgets; 'Gizmos' is not one of them",
        ),
        (
            {"name": "Alt_Email__c", "type": "email", "length": 80},
            "not-an-email",
            "Alt_Email__c accepts only an email address",
        ),
        (
            {"name": "Budget__c", "type": "currency", "precision": 8, "scale": 2},
            "123456789",
            "Budget__c accepts numbers with up to 6 digits before the decimal point and 2 after;"
            " this value has 9 before it.",
        ),
        (
            {
                "name": "Sales_Notes__c",
                "type": "textarea",
                "updateable": False,
                "createable": False,
            },
            "hi",
            "Sales_Notes__c is read-only",
        ),
        (
            {"name": "OwnerId", "type": "reference", "referenceTo": ["Group", "User"]},
            "00G",
            "Group, User",
        ),
        (None, "x", ""),
    ],
)
def test_describe_constraint_names_the_rule_broken(describe, value, sentence):
    assert sentence in describe_constraint(describe, value)


def test_fix_in_salesforce_says_what_to_change():
    assert "at least 143" in fix_in_salesforce(COMMENT, "x" * 143, "STRING_TOO_LONG")
    assert "Duplicate Rules" in fix_in_salesforce(None, "", "DUPLICATES_DETECTED")
    assert "permission set" in fix_in_salesforce(None, "", "INSUFFICIENT_ACCESS_OR_READONLY")
    assert "review the field" in fix_in_salesforce(None, "", "SOMETHING_NEW")


@pytest.mark.django_db
def test_the_demo_has_errors_in_every_category_and_the_guides_comment():
    from tests.fixtures.demo_errors import load_demo_errors

    assert load_demo_errors() == 8
    assert load_demo_errors() == 0  # idempotent
    categories = set(SyncError.objects.open().values_list("category", flat=True))
    assert categories == set(ErrorCategory.values)
    guide = SyncError.objects.get(error_code="STRING_TOO_LONG")
    assert len(guide.value_sent) == 143 and "max length=100" in guide.message

"""Prospect fields by name: one way to read and write them, one stored form (issue 12.3)."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from prospects.factories import ProspectFactory
from prospects.models import CustomField
from sync.models import FieldRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def definitions():
    fields = [
        CustomField.objects.create(api_name="about", label="About"),
        CustomField.objects.create(api_name="story", label="Story", type="textarea"),
        CustomField.objects.create(
            api_name="topics", label="Topics", type="multi_select", choices=["a", "b", "c"]
        ),
        CustomField.objects.create(api_name="budget", label="Budget", type="number"),
        CustomField.objects.create(api_name="vip", label="VIP", type="checkbox"),
    ]
    return {field.api_name: field for field in fields}


def test_custom_fields_are_read_and_written_by_name(definitions):
    prospect = ProspectFactory(custom_fields={})
    prospect.set_field("custom:about", "Wants a demo", definitions=definitions)
    prospect.set_field("custom:budget", Decimal("12.50"), definitions=definitions)
    prospect.set_field("custom:vip", False, definitions=definitions)
    assert prospect.get_field("custom:about") == "Wants a demo"
    assert prospect.custom_fields == {"about": "Wants a demo", "budget": "12.50", "vip": False}
    prospect.set_field("custom:about", "", definitions=definitions)
    assert prospect.get_field("custom:about") is None and "about" not in prospect.custom_fields


def test_multi_select_values_have_one_stored_form_whoever_writes_them(definitions):
    prospect = ProspectFactory(custom_fields={})
    for written in (["a", "b"], "a;b", " a ; b ", ("a", "b")):
        prospect.set_field("custom:topics", written, definitions=definitions)
        assert prospect.custom_fields["topics"] == "a;b", written
    prospect.set_field("custom:topics", [], definitions=definitions)
    assert "topics" not in prospect.custom_fields


def test_custom_text_is_capped_at_its_length(definitions):
    prospect = ProspectFactory(custom_fields={})
    prospect.set_field("custom:about", "x" * 300, definitions=definitions)
    prospect.set_field("custom:story", "y" * 40000, definitions=definitions)
    assert len(prospect.custom_fields["about"]) == 255
    assert len(prospect.custom_fields["story"]) == 32768


def test_set_field_looks_a_definition_up_when_not_given(definitions, django_assert_num_queries):
    prospect = ProspectFactory(custom_fields={})
    with django_assert_num_queries(1):
        prospect.set_field("custom:topics", ["b", "c"])
    with django_assert_num_queries(0):
        prospect.set_field("custom:topics", ["a"], definitions=definitions)
    assert prospect.custom_fields["topics"] == "a"


def test_standard_fields_take_their_blank_and_length():
    prospect = ProspectFactory()
    prospect.set_field("city", None)
    prospect.set_field("employees", "")
    prospect.set_field("company", "c" * 300)
    prospect.set_field("annual_revenue", "1200.5")
    assert (prospect.city, prospect.employees) == ("", None)
    assert len(prospect.company) == 255 and prospect.annual_revenue == Decimal("1200.5")
    assert prospect.get_field("company") == prospect.company


def test_one_method_names_a_rules_column_for_every_object(connector_rules):
    rule = FieldRule.objects.get(prospect_field="email")
    assert FieldRule.column_for("Lead") == "lead_field"
    assert FieldRule.column_for("Account") == FieldRule.column_for("PersonAccount")
    assert FieldRule.column_for("Opportunity") is None
    assert rule.target_field("Account") == rule.target_field("PersonAccount") == "PersonEmail"
    assert list(FieldRule.objects.targeting("Account", "personemail")) == [rule]
    assert list(FieldRule.objects.targeting("PersonAccount", "PersonEmail")) == [rule]
    assert not FieldRule.objects.targeting("Opportunity", "Email").exists()


@pytest.fixture
def connector_rules(db):
    from sync.mapping import ensure_default_rules
    from tests.sync.factories_errors import ConnectorFactory

    connector = ConnectorFactory()
    ensure_default_rules(connector)
    return connector


def test_the_migration_turns_stored_lists_into_salesforce_strings(definitions):
    migration = importlib.import_module(
        "prospects.migrations.0006_multi_select_as_salesforce_string"
    )
    old = ProspectFactory(custom_fields={"topics": "a;b", "about": "x"})
    listed = ProspectFactory(custom_fields={"topics": ["a", "c"], "about": "kept"})
    emptied = ProspectFactory(custom_fields={"topics": []})
    migration.forwards(apps, None)
    for prospect in (old, listed, emptied):
        prospect.refresh_from_db()
    assert old.custom_fields == {"topics": "a;b", "about": "x"}
    assert listed.custom_fields == {"topics": "a;c", "about": "kept"}
    assert emptied.custom_fields == {}
    migration.backwards(apps, None)
    listed.refresh_from_db()
    assert listed.custom_fields == {"topics": ["a", "c"], "about": "kept"}

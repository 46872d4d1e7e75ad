"""Custom text is capped at its length on every path; assignment offers only real users (11.14)."""

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.forms import ProspectForm
from prospects.models import CustomField
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.errors.csv_io import import_file
from sync.errors.fix import clean_value
from sync.models import FieldRule, SyncCursor
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def about(db):
    return CustomField.objects.create(api_name="about", label="About")


@pytest.fixture
def story(db):
    return CustomField.objects.create(api_name="story", label="Story", type="textarea")


def test_the_form_refuses_custom_text_longer_than_its_field(marketer_client, about, story):
    prospect = ProspectFactory(custom_fields={})
    for name, length in (("custom:about", 256), ("custom:story", 32769)):
        data = {"email": prospect.email, "score": 0, name: "x" * length}
        response = marketer_client.post(reverse("prospects:edit", args=[prospect.pk]), data)
        assert response.status_code == 200 and name in response.context["form"].errors
    prospect.refresh_from_db()
    assert prospect.custom_fields == {}


def test_the_error_fix_refuses_custom_text_longer_than_its_field(about, story):
    assert clean_value("custom:about", "x" * 255) == "x" * 255
    with pytest.raises(ValidationError, match="at most 255 characters; this has 256"):
        clean_value("custom:about", "x" * 256)
    with pytest.raises(ValidationError, match="at most 32768"):
        clean_value("custom:story", "x" * 32769)


def test_the_csv_reimport_refuses_a_row_with_custom_text_too_long(tmp_path: Path, about):
    fits, too_long = ProspectFactory(custom_fields={}), ProspectFactory(custom_fields={})
    path = tmp_path / "corrected.csv"
    path.write_text(
        f"prospect_id,custom:about\n{fits.pk},{'x' * 255}\n{too_long.pk},{'y' * 256}\n",
        encoding="utf-8",
    )
    report = import_file(path)
    assert report.applied == 1
    assert [r.reason for r in report.refused] == [
        "custom:about: About holds at most 255 characters; this has 256"
    ]
    too_long.refresh_from_db()
    assert too_long.custom_fields == {}


def test_a_pull_caps_custom_text_at_its_length(connector, sf, about, unique_email):
    FieldRule.objects.create(
        connector=connector,
        prospect_field="custom:about",
        lead_field="pi__comments__c",
        contact_field="pi__comments__c",
        behaviour=FieldRule.Behaviour.SALESFORCE,
    )
    prospect = ProspectFactory(email=unique_email(), assigned_user=UserFactory())
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    sf.Lead.update(prospect.crm_lead_id, {"pi__comments__c": "z" * 300})
    pull_changes(connector=connector)
    prospect.refresh_from_db()
    assert prospect.custom_fields["about"] == "z" * 255


def test_a_pulled_multi_select_is_stored_as_salesforce_writes_it(connector, sf, unique_email):
    CustomField.objects.create(
        api_name="interests", label="Interests", type="multi_select", choices=["A", "B", "C"]
    )
    FieldRule.objects.create(
        connector=connector,
        prospect_field="custom:interests",
        lead_field="Interests__c",
        contact_field="Interests__c",
        behaviour=FieldRule.Behaviour.SALESFORCE,
    )
    prospect = ProspectFactory(email=unique_email(), assigned_user=UserFactory())
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    picklist = sf.Lead.describe()["fields"]
    values = next(f for f in picklist if f["name"] == "Interests__c")["picklistValues"]
    chosen = [v["value"] for v in values[:2]]
    sf.Lead.update(prospect.crm_lead_id, {"Interests__c": ";".join(chosen)})
    pull_changes(connector=connector)
    prospect.refresh_from_db()
    assert prospect.custom_fields["interests"] == ";".join(chosen)


def _with_role(username: str, role: str | None, **extra):
    ensure_roles()
    user = UserFactory(username=username, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def test_assignment_offers_active_users_with_a_role_only():
    marketer = _with_role("maria", "Marketer")
    admin = _with_role("sam", "Sync admin")
    _with_role("gone", "Marketer", is_active=False)
    _with_role("nobody", None)
    _with_role("root", None, is_superuser=True)
    form = ProspectForm(instance=ProspectFactory(assigned_user=None))
    assert list(form.fields["assigned_user"].queryset) == [marketer, admin]


def test_the_current_assignee_stays_selectable_after_leaving(marketer_client):
    former = _with_role("former", "Marketer")
    prospect = ProspectFactory(assigned_user=former)
    former.is_active = False
    former.save()
    form = ProspectForm(instance=prospect)
    assert former in form.fields["assigned_user"].queryset
    other = ProspectFactory(assigned_user=None)
    data = {"email": other.email, "score": 0, "assigned_user": former.pk}
    response = marketer_client.post(reverse("prospects:edit", args=[other.pk]), data)
    assert "assigned_user" in response.context["form"].errors

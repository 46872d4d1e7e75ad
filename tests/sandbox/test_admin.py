"""The org admin: lifecycle actions (convert, merge, delete, undelete) and metadata edits."""

import pytest

from sandbox import lifecycle
from sandbox.demo import load_demo_org
from sandbox.models import Field, Record
from sandbox.records import where_field

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def org():
    return load_demo_org()


def _record(org, sobject: str, **filters) -> Record:
    rows = Record.objects.filter(org=org, sobject=sobject, is_deleted=False)
    for name, value in filters.items():
        rows = where_field(rows, name, "exact", value)
    return rows.order_by("id").first()


def test_convert_lead_creates_contact_and_account_and_moves_memberships(org):
    member = Record.objects.filter(org=org, sobject="CampaignMember", data__has_key="LeadId")
    lead_id = member.order_by("id").first().data["LeadId"]
    lead = Record.objects.get(pk=lead_id)
    made = lifecycle.convert_lead(lead)
    lead.refresh_from_db()
    assert lead.data["IsConverted"] is True
    assert lead.data["ConvertedContactId"] == made["contact"]
    assert lead.data["ConvertedAccountId"] == made["account"]
    contact = Record.objects.get(pk=made["contact"])
    assert contact.data["Email"] == lead.data["Email"]
    assert contact.data["AccountId"] == made["account"]
    assert Record.objects.get(pk=made["account"]).data["Name"] == lead.data["Company"]
    moved = where_field(Record.objects.filter(sobject="CampaignMember"), "LeadId", "exact", lead_id)
    assert all(m.data["ContactId"] == made["contact"] for m in moved)
    with pytest.raises(ValueError):
        lifecycle.convert_lead(lead)


def test_merge_repoints_children_and_deletes_duplicates(org):
    master, duplicate = Record.objects.filter(org=org, sobject="Account").order_by("id")[:2]
    children = where_field(
        Record.objects.filter(sobject="Contact"), "AccountId", "exact", duplicate.pk
    ).count()
    moved = lifecycle.merge_records(master, [duplicate])
    assert moved >= children > 0
    duplicate.refresh_from_db()
    assert duplicate.is_deleted and duplicate.data["MasterRecordId"] == master.pk


def test_delete_and_undelete(org):
    lead = _record(org, "Lead")
    lifecycle.delete_record(lead)
    assert Record.objects.get(pk=lead.pk).is_deleted
    lifecycle.undelete_record(lead)
    assert not Record.objects.get(pk=lead.pk).is_deleted


def test_admin_pages_and_convert_action(client, org, sync_admin):
    sync_admin.is_superuser = True  # the admin needs the Sync admin role; superuser: every model
    sync_admin.save()
    client.force_login(sync_admin)
    assert client.get("/admin/sandbox/record/?sobject__exact=Lead").status_code == 200
    assert client.get("/admin/sandbox/sobject/").status_code == 200
    lead = _record(org, "Lead", IsConverted=False)
    response = client.post(
        "/admin/sandbox/record/", {"action": "convert_leads", "_selected_action": [lead.pk]}
    )
    assert response.status_code == 302
    assert Record.objects.get(pk=lead.pk).data["IsConverted"] is True


def test_metadata_edits_bump_the_org_version(org):
    before = type(org).objects.get(pk=org.pk).meta_version
    field = Field.objects.get(sobject__org=org, sobject__name="Lead", name="Customer_Comment__c")
    field.length = 50
    field.save()
    assert type(org).objects.get(pk=org.pk).meta_version == before + 1

"""Opportunities of synced contacts, mirrored read-only (sync/engine/opportunities.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Opportunity, OpportunityContactRole
from prospects.factories import ProspectFactory, UserFactory
from sync import jobs
from sync.engine.opportunities import amount, pull_opportunities
from sync.engine.outbound import push_prospects
from sync.models import SyncCursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def restored_org(sandbox_org):
    """For tests that change the demo org beyond their own records (a conversion): reload it."""
    yield sandbox_org
    sandbox_org.reset()


@pytest.fixture
def synced(connector, unique_email):
    """A prospect pushed to a new Lead, with the pull watermarks just before now."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, company="Initech")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={
                "watermark": timezone.now() - dt.timedelta(seconds=5),
                "deleted_watermark": timezone.now() - dt.timedelta(seconds=5),
            },
        )
    return prospect


def demo_roles(sf, limit: int) -> list[dict]:
    return sf.query(
        "SELECT Id, OpportunityId, ContactId, Role FROM OpportunityContactRole "
        f"ORDER BY OpportunityId, Id LIMIT {limit}"
    )["records"]


def page(client, prospect) -> str:
    return client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()


def test_a_converted_leads_opportunity_follows_the_org(
    connector, restored_org, synced, marketer_client
):
    made = restored_org.control("convert_lead", lead_id=synced.crm_lead_id, create_opportunity=True)
    admin = restored_org.admin()
    admin.Opportunity.update(made["opportunity"], {"Name": "Initech <b>renewal</b>"})
    admin.OpportunityContactRole.create(
        {
            "OpportunityId": made["opportunity"],
            "ContactId": made["contact"],
            "Role": "Decision Maker",
            "IsPrimary": True,
        }
    )
    jobs.pull(connector.pk)  # the prospect moves to the contact, then its opportunities come
    synced.refresh_from_db()
    assert synced.crm_contact_id == made["contact"]
    opportunity = Opportunity.objects.get(sf_id=made["opportunity"])
    assert (opportunity.stage, opportunity.amount, opportunity.outcome) == (
        "Prospecting",
        None,
        "open",
    )
    role = opportunity.contact_roles.get()
    assert (role.prospect, role.role, role.is_primary) == (synced, "Decision Maker", True)
    html = page(marketer_client, synced)
    assert "Initech &lt;b&gt;renewal&lt;/b&gt;" in html and "Prospecting" in html

    admin.Opportunity.update(made["opportunity"], {"StageName": "Closed Won", "Amount": 125000.5})
    report = pull_opportunities(connector=connector)
    assert report.opportunities == 1 and report.contacts == 0
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.amount, opportunity.outcome) == (
        "Closed Won",
        Decimal("125000.50"),
        "won",
    )
    html = page(marketer_client, synced)
    assert "125,000.50" in html and "Won" in html

    admin.Opportunity.delete(made["opportunity"])
    assert pull_opportunities(connector=connector).deleted == 1
    opportunity.refresh_from_db()
    assert opportunity.deleted_at is not None
    assert opportunity.contact_roles.get().deleted  # its roles went to the recycle bin with it
    # The card goes; the timeline keeps the "Opportunity created" activity it earned.
    html = page(marketer_client, synced)
    assert "Opportunities <span" not in html
    assert "Opportunity created" in html


def test_a_role_to_an_unsynced_contact_is_kept_unlinked_until_a_prospect_syncs(connector, sf):
    roles = demo_roles(sf, 40)
    by_opp: dict[str, list[dict]] = {}
    for role in roles:
        by_opp.setdefault(role["OpportunityId"], []).append(role)
    first, second = next(pair for pair in by_opp.values() if len(pair) == 2)
    prospect = ProspectFactory(crm_contact_id=first["ContactId"])
    pull_opportunities(connector=connector)
    mirrored = {r.sf_id: r for r in OpportunityContactRole.objects.all()}
    assert mirrored[first["Id"]].prospect == prospect
    assert mirrored[second["Id"]].prospect is None  # kept, unlinked
    assert mirrored[second["Id"]].contact_sf_id == second["ContactId"]
    later = ProspectFactory(crm_contact_id=second["ContactId"])
    # Past the overlap: the role is not read again, the link comes from the mirror alone.
    SyncCursor.objects.filter(connector=connector, sobject="Opportunity").update(
        watermark=timezone.now() + dt.timedelta(minutes=5)
    )
    pull_opportunities(connector=connector)
    assert OpportunityContactRole.objects.get(sf_id=second["Id"]).prospect == later


def test_an_opportunity_without_contact_roles_is_not_mirrored(connector, sf):
    [role] = demo_roles(sf, 1)
    contact = sf.Contact.get(role["ContactId"])
    ProspectFactory(crm_contact_id=contact["Id"])
    pull_opportunities(connector=connector)
    lonely = sf.Opportunity.create(
        {
            "Name": "Nobody's deal",
            "AccountId": contact["AccountId"],
            "StageName": "Prospecting",
            "CloseDate": "2027-01-31",
        }
    )["id"]
    try:
        pull_opportunities(connector=connector)
        assert not Opportunity.objects.filter(sf_id=lonely).exists()
        assert Opportunity.objects.filter(sf_id=role["OpportunityId"]).exists()
    finally:
        sf.Opportunity.delete(lonely)


def test_odd_currency_values_are_kept_out_not_cut(connector, sf):
    [role] = demo_roles(sf, 1)
    contact = sf.Contact.get(role["ContactId"])
    ProspectFactory(crm_contact_id=contact["Id"])
    pull_opportunities(connector=connector)
    made = []
    try:
        for value in (None, 9999999999999999.99, 0.005):
            opp = sf.Opportunity.create(
                {
                    "Name": f"Amount {value}",
                    "AccountId": contact["AccountId"],
                    "StageName": "Closed Lost",
                    "CloseDate": "2026-12-31",
                    "Amount": value,
                }
            )["id"]
            made.append(opp)
            sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact["Id"]})
        pull_opportunities(connector=connector)
        amounts = [Opportunity.objects.get(sf_id=i).amount for i in made]
        expected = [sf.Opportunity.get(i)["Amount"] for i in made]
        assert amounts[0] is None and expected[0] is None
        assert amounts[1] == Decimal(str(expected[1])).quantize(Decimal("0.01"))
        assert amounts[2] is not None and abs(amounts[2]) < Decimal("0.01") + Decimal("0.001")
        assert Opportunity.objects.get(sf_id=made[0]).outcome == "lost"
    finally:
        for opp in made:
            sf.Opportunity.delete(opp)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("not a number", None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        (1e20, None),  # larger than the column: kept out rather than cut
        (-1e18, None),
        (1234.5, Decimal("1234.50")),
        ("-42", Decimal("-42.00")),
        (999999999999999999.99, None),
    ],
)
def test_amount_parsing(value, expected):
    assert amount(value) == expected


def test_new_contacts_are_read_in_bulk_not_one_call_per_record(connector, sf, sf_client):
    roles = demo_roles(sf, 600)
    contacts = sorted({r["ContactId"] for r in roles})
    assert len(contacts) > 250
    for contact in contacts:
        ProspectFactory(crm_contact_id=contact)
    before = sf_client.api_calls
    report = pull_opportunities(connector=connector, client=sf_client)
    # Roles by contact, opportunities by id, their roles by opportunity: one Composite each.
    assert sf_client.api_calls - before == 3
    assert report.contacts == len(contacts)
    assert Opportunity.objects.count() == len({r["OpportunityId"] for r in roles})
    assert OpportunityContactRole.objects.filter(prospect__isnull=False).count() >= len(roles)
    # A contact read once is not asked again (it has no new roles).
    assert pull_opportunities(connector=connector, client=sf_client).contacts == 0

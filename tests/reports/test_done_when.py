"""Issue 16's "Done when": the guide's whole data flow, end to end, against the sandbox org.

A visitor's form handler post makes a prospect in a campaign; the marketer assigns it; it becomes
a Lead; in the org the lead joins a Salesforce campaign, is converted with an opportunity that is
closed won; at the next pull the prospect shows its contact, account, campaign status and
opportunity, and the ROI report credits the prospect's first-touch campaign with the revenue.
"""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Opportunity
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import Prospect, SyncStatus
from reports.jobs import refresh_roi_job
from reports.roi import RoiQuery, first_touch, primary_campaign, refresh_figures
from sync.engine.opportunities import pull_opportunities
from sync.jobs import pull
from sync.models import SyncCursor
from tests.conftest import user_with_role
from tests.fixtures.html_forms import form_data, with_changes
from tests.intake.conftest import make_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def restored_org(sandbox_org):
    """The test converts a lead and closes a deal in the demo org: reload it afterwards."""
    yield sandbox_org
    sandbox_org.reset()


def page_of(client, prospect: Prospect) -> str:
    return client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()


def test_a_form_submission_ends_as_won_revenue_credited_to_its_first_touch_campaign(
    connector,
    restored_org,
    sf,
    marketer_client,
    run_jobs,
    unique_email,
    django_capture_on_commit_callbacks,
):
    admin = restored_org.admin()
    tag = uuid.uuid4().hex[:6]
    first_touch_campaign = CampaignFactory(name=f"Spring webinar {tag}", cost=Decimal("2500"))
    make_handler(slug=f"spring-{tag}", campaign=first_touch_campaign)
    owner = user_with_role("alice", "Marketer", email="alice@acme.example")  # a sales rep
    email = unique_email()

    # 1. A visitor's form handler post, applied by the worker: a prospect in the campaign.
    with django_capture_on_commit_callbacks(execute=True):  # the worker's wake-up
        response = Client().post(
            f"/fh/spring-{tag}/",
            {"email": email, "first_name": "Ada", "company": f"Initech {tag}"},
        )
    assert response.status_code in (200, 302)
    run_jobs("default")
    run_jobs("sync")  # the push it asked for: not before someone owns the prospect
    prospect = Prospect.objects.get(email=email)
    assert prospect.campaign == first_touch_campaign
    assert prospect.sync_status == SyncStatus.WAITING_ASSIGNMENT and not prospect.crm_lead_id

    # 2. The marketer assigns it (the edit form, as the browser posts it); the push makes a Lead.
    edit = reverse("prospects:edit", args=[prospect.pk])
    shown = form_data(marketer_client.get(edit).content.decode(), testid="prospect-form")
    with django_capture_on_commit_callbacks(execute=True):  # the sync workers' wake-up
        assigned = marketer_client.post(edit, with_changes(shown, assigned_user=str(owner.pk)))
    assert assigned.status_code == 302
    run_jobs("sync")
    prospect.refresh_from_db()
    assert prospect.crm_lead_id and not prospect.crm_contact_id
    for sobject in ("Lead", "Contact"):  # the pull reads from here on, not the whole demo org
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={
                "watermark": timezone.now() - dt.timedelta(seconds=5),
                "deleted_watermark": timezone.now() - dt.timedelta(seconds=5),
            },
        )

    # 3. In the org: the lead joins a campaign, is converted with an opportunity, which is won.
    sf_campaign = admin.Campaign.create({"Name": f"Spring webinar SF {tag}", "IsActive": True})[
        "id"
    ]
    admin.CampaignMember.create(
        {"CampaignId": sf_campaign, "LeadId": prospect.crm_lead_id, "Status": "Responded"}
    )
    made = restored_org.control(
        "convert_lead", lead_id=prospect.crm_lead_id, create_opportunity=True
    )
    # Salesforce adds the converted contact as the primary contact role and takes the lead's
    # campaign as the primary campaign source; the sandbox's convert leaves both to us.
    admin.OpportunityContactRole.create(
        {"OpportunityId": made["opportunity"], "ContactId": made["contact"], "IsPrimary": True}
    )
    admin.Opportunity.update(
        made["opportunity"],
        {"StageName": "Closed Won", "Amount": 48250.75, "CampaignId": sf_campaign},
    )

    # 4. The next pull (the cron's pull job), then the ROI refresh it enqueued.
    with django_capture_on_commit_callbacks(execute=True):  # the refresh's enqueue
        pull(connector.pk)
    run_jobs("default")
    prospect.refresh_from_db()
    assert prospect.crm_contact_id == made["contact"]
    assert prospect.crm_account_id == made["account"]
    html = page_of(marketer_client, prospect)
    assert made["contact"] in html and f"Initech {tag}" in html  # contact and its account
    card = html[html.index('id="salesforce-campaigns"') :]
    assert f"Spring webinar SF {tag}" in card and "Responded" in card
    assert "Closed Won" in html and "48,250.75" in html  # the opportunity

    # 5. The ROI report credits the first-touch campaign, and reconciles with the org. The
    # pull's refresh moved the opportunity credits; the prospect counts are the cron's (every
    # 5 minutes), run here as its tick would.
    row = next(r for r in first_touch(RoiQuery()).rows if r.name == first_touch_campaign.name)
    assert (row.opportunities, row.won) == (1, 1)
    refresh_roi_job()
    org_amount = Decimal(str(sf.Opportunity.get(made["opportunity"])["Amount"]))
    row = next(r for r in first_touch(RoiQuery()).rows if r.name == first_touch_campaign.name)
    assert (row.prospects, row.synced, row.opportunities, row.won) == (1, 1, 1, 1)
    assert row.won_revenue == org_amount == Decimal("48250.75")
    assert row.cost == Decimal("2500") and row.roi == (org_amount - 2500) / 2500 * 100
    assert Opportunity.objects.get(sf_id=made["opportunity"]).roi_credit.prospect == prospect
    by_source = next(r for r in primary_campaign(RoiQuery()).rows if r.key == sf_campaign)
    assert by_source.won_revenue == org_amount
    report_page = marketer_client.get(reverse("reports:roi")).content.decode()
    assert first_touch_campaign.name in report_page and "48,250.75" in report_page


def test_the_won_revenue_equals_the_orgs_won_amount_for_the_credited_opportunities(connector, sf):
    """The demo org's opportunities, reached through prospects syncing with their contacts."""
    roles = sf.query(
        "SELECT OpportunityId, ContactId FROM OpportunityContactRole ORDER BY Id LIMIT 60"
    )["records"]
    campaigns = [CampaignFactory(name=f"Demo {n}") for n in range(3)]
    contacts = sorted({r["ContactId"] for r in roles})
    for index, contact in enumerate(contacts):
        ProspectFactory(crm_contact_id=contact, campaign=campaigns[index % 3])
    pull_opportunities(connector=connector)
    refresh_figures()
    reached = sf.query(
        "SELECT OpportunityId FROM OpportunityContactRole WHERE ContactId IN ("
        + ", ".join(f"'{c}'" for c in contacts)
        + ")"
    )["records"]
    credited = sorted({r["OpportunityId"] for r in reached})
    org = sf.query(
        "SELECT Id, Amount, IsWon FROM Opportunity WHERE Id IN ("
        + ", ".join(f"'{i}'" for i in credited)
        + ")"
    )["records"]
    org_won = sum(
        (Decimal(str(o["Amount"])) for o in org if o["IsWon"] and o["Amount"] is not None),
        Decimal(0),
    )
    report = first_touch(RoiQuery())
    assert report.total.won_revenue == org_won
    assert report.total.opportunities == len(org)  # each credited once, however many contacts

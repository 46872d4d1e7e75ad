"""Imports that add their prospects to a Salesforce campaign: the option checked before the
import starts, the members pushed to the sandbox org after the prospects sync, and a campaign
that turns bad while the import runs noted on each row."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.models import CampaignMembership, MembershipState, SalesforceCampaign
from intake import imports
from intake.imports import ImportOptions, ImportRefused, report_lines
from intake.models import Import
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from sync.jobs import pull
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def start_import(django_capture_on_commit_callbacks):
    def start(**kwargs) -> Import:
        with django_capture_on_commit_callbacks(execute=True):
            return imports.start_import(**kwargs)

    return start


def _upload(text: str):
    return SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")


def test_an_import_adds_its_prospects_and_the_push_makes_them_members_in_the_org(
    connector, sf, start_import, marketer, run_jobs, unique_email
):
    owner = UserFactory(username="alice", email="alice@acme.example")
    name = f"Import campaign {uuid.uuid4().hex[:6]}"
    campaign_id = sf.Campaign.create({"Name": name, "IsActive": True})["id"]
    pull(connector.pk)
    campaign = SalesforceCampaign.objects.get(sf_id=campaign_id)
    emails = [unique_email(), unique_email()]
    run = start_import(
        user=marketer,
        uploaded_file=_upload("Email,Last Name\n" + "".join(f"{e},Doe\n" for e in emails)),
        options=ImportOptions(
            assign_user_id=owner.pk,
            salesforce_campaign_id=campaign.pk,
            campaign_member_status="Responded",
        ),
    )
    run_jobs("imports")
    run.refresh_from_db()
    assert (run.state, run.created) == (Import.State.DONE, 2)
    assert CampaignMembership.objects.filter(campaign=campaign, state="pending").count() == 2
    run_jobs("sync")  # the prospects' push, then the member push
    leads = dict(Prospect.objects.filter(email__in=emails).values_list("crm_lead_id", "email"))
    assert all(leads)
    members = sf.query(
        f"SELECT LeadId, Status FROM CampaignMember WHERE CampaignId = '{campaign_id}'"
    )["records"]
    assert sorted((m["LeadId"], m["Status"]) for m in members) == sorted(
        (lead, "Responded") for lead in leads
    )
    assert set(CampaignMembership.objects.filter(campaign=campaign).values_list("state")) == {
        (MembershipState.SYNCED,)
    }


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"campaign_member_status": "Attended"}, "not a member status"),
        ({"is_active": False}, "inactive"),
        ({"deleted": True}, "deleted in Salesforce"),
        ({"missing": True}, "does not exist"),
    ],
)
def test_a_campaign_or_status_salesforce_would_refuse_stops_the_import_before_it_starts(
    start_import, marketer, options, words
):
    campaign = SalesforceCampaignFactory(is_active=options.get("is_active", True))
    if options.get("deleted"):
        campaign.deleted_at = timezone.now()
        campaign.save()
    pk = 10**9 if options.get("missing") else campaign.pk
    with pytest.raises(ImportRefused) as refused:
        start_import(
            user=marketer,
            uploaded_file=_upload("Email\na@example.com\n"),
            options=ImportOptions(
                salesforce_campaign_id=pk,
                campaign_member_status=options.get("campaign_member_status", ""),
            ),
        )
    assert any(words in message for message in refused.value.messages)
    assert not Prospect.objects.exists()


def test_a_campaign_deactivated_while_the_import_waits_is_noted_on_each_row(
    start_import, marketer, run_jobs
):
    campaign = SalesforceCampaignFactory(name="Fall Expo")
    run = start_import(
        user=marketer,
        uploaded_file=_upload("Email\na@example.com\nb@example.com\n"),
        options=ImportOptions(salesforce_campaign_id=campaign.pk),
    )
    SalesforceCampaign.objects.filter(pk=campaign.pk).update(is_active=False)
    run_jobs("imports")
    run.refresh_from_db()
    assert (run.created, run.failed) == (2, 0)  # the prospects are in; the report says why
    assert not CampaignMembership.objects.exists()
    report = b"".join(report_lines(run)).decode("utf-8-sig")
    assert report.count("Not added to the campaign") == 2 and "Fall Expo" in report


def test_without_a_status_members_keep_theirs_and_new_ones_take_the_default(
    start_import, marketer, run_jobs
):
    campaign = SalesforceCampaignFactory()
    kept = MembershipFactory(
        campaign=campaign, prospect=ProspectFactory(email="k@example.com"), status="Responded"
    )
    start_import(
        user=marketer,
        uploaded_file=_upload("Email\nk@example.com\nn@example.com\n"),
        options=ImportOptions(salesforce_campaign_id=campaign.pk),
    )
    run_jobs("imports")
    kept.refresh_from_db()
    assert kept.status == "Responded"
    assert CampaignMembership.objects.get(prospect__email="n@example.com").status == "Sent"


def test_the_mapping_page_offers_the_campaigns_and_refuses_a_bad_one(marketer_client, marketer):
    campaign = SalesforceCampaignFactory(name="Spring Gala")
    run = imports.receive_upload(user=marketer, uploaded_file=_upload("Email\na@example.com\n"))
    url = reverse("intake:import_map", args=[run.pk])
    page = marketer_client.get(url).content.decode()
    assert "Spring Gala" in page and f"{campaign.pk}::Responded" in page
    response = marketer_client.post(
        url,
        {"column_0": "email", "overwrite": "1", "when": "now",
         "salesforce_campaign": f"{campaign.pk}::Attended"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "is not a member status of" in response.content.decode()
    run.refresh_from_db()
    assert run.state == Import.State.DRAFT

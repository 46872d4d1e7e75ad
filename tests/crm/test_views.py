"""The campaign pages, the prospect page's campaigns card and the list's bulk action."""

import codecs

import pytest
from django.urls import reverse

from core.models import Task
from crm import jobs
from crm.memberships import refresh_counts
from crm.models import CampaignMembership, MembershipState
from crm.views import campaigns as campaign_views
from prospects.factories import ProspectFactory
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return SalesforceCampaignFactory(name="Spring Webinar")


def test_the_campaign_list_shows_counts_by_status(marketer_client, campaign):
    MembershipFactory.create_batch(3, campaign=campaign, status="Sent")
    MembershipFactory(campaign=campaign, status="Responded")
    refresh_counts([campaign.pk])
    page = marketer_client.get(reverse("crm:campaigns")).content.decode()
    assert "Spring Webinar" in page
    assert "Sent <strong>3</strong>" in page and "Responded <strong>1</strong>" in page


def test_the_members_page_filters_by_status_in_a_few_queries(
    marketer_client, campaign, django_assert_max_num_queries
):
    MembershipFactory.create_batch(30, campaign=campaign, status="Sent")
    MembershipFactory.create_batch(5, campaign=campaign, status="Responded")
    refresh_counts([campaign.pk])
    url = reverse("crm:campaign", args=[campaign.pk])
    with django_assert_max_num_queries(10):
        page = marketer_client.get(url, {"status": "Responded"}).content.decode()
    assert page.count("/prospects/") >= 5
    with django_assert_max_num_queries(10):
        response = marketer_client.get(url)
    assert response.context["table"].paginator.count == 35  # the cached count, no COUNT(*)


def test_the_export_is_formula_safe_with_a_bom(marketer_client, campaign):
    MembershipFactory(campaign=campaign, prospect=ProspectFactory(first_name="=HYPERLINK(1)"))
    response = marketer_client.get(reverse("crm:campaign_export", args=[campaign.pk]))
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and text.splitlines()[0].startswith("prospect_id,email")


def test_the_prospect_page_lists_campaigns_and_adds_one(marketer_client, campaign):
    prospect = ProspectFactory()
    MembershipFactory(prospect=prospect, campaign=SalesforceCampaignFactory(name="Expo"))
    page = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert "Expo" in page and "pending: added once the prospect syncs" in page
    response = marketer_client.post(
        reverse("crm:prospect_add", args=[prospect.pk]),
        {"campaign_status": f"{campaign.pk}::Responded"},
        follow=True,
    )
    membership = CampaignMembership.objects.get(prospect=prospect, campaign=campaign)
    assert membership.status == "Responded" and membership.has_responded
    assert "pending until the prospect syncs" in response.content.decode()


def test_a_status_the_campaign_lacks_is_a_clear_message_not_a_500(marketer_client, campaign):
    prospect = ProspectFactory()
    response = marketer_client.post(
        reverse("crm:prospect_add", args=[prospect.pk]),
        {"campaign_status": f"{campaign.pk}::Attended"},
        follow=True,
    )
    assert response.status_code == 200
    assert "“Attended” is not a member status of “Spring Webinar”" in response.content.decode()
    assert not CampaignMembership.objects.exists()
    membership = MembershipFactory(prospect=prospect, campaign=campaign)
    response = marketer_client.post(
        reverse("crm:membership_status", args=[membership.pk]), {"status": "Nope"}, follow=True
    )
    assert "“Nope” is not a member status" in response.content.decode()


def test_a_deleted_campaign_says_so_and_takes_no_one(marketer_client, campaign):
    from django.utils import timezone

    campaign.deleted_at = timezone.now()
    campaign.save()
    prospect = ProspectFactory()
    response = marketer_client.post(
        reverse("crm:prospect_add", args=[prospect.pk]),
        {"campaign_status": f"{campaign.pk}::Sent"},
        follow=True,
    )
    assert "was deleted in Salesforce" in response.content.decode()
    page = marketer_client.get(reverse("crm:campaign", args=[campaign.pk])).content.decode()
    assert "This campaign was deleted in Salesforce" in page


def test_status_changes_from_the_prospect_page(marketer_client, campaign):
    membership = MembershipFactory(campaign=campaign, state=MembershipState.SYNCED)
    marketer_client.post(
        reverse("crm:membership_status", args=[membership.pk]), {"status": "Responded"}
    )
    membership.refresh_from_db()
    assert membership.status == "Responded" and membership.state == MembershipState.PENDING
    assert membership.generation == 2


def test_the_list_adds_a_selection(marketer_client, campaign):
    chosen = ProspectFactory.create_batch(3)
    ProspectFactory()
    url = reverse("crm:bulk_add")
    ids = [p.pk for p in chosen]
    page = marketer_client.get(url, {"select": ids, "scope": "selection"}).content.decode()
    assert "The 3 selected prospects" in page
    assert not CampaignMembership.objects.exists()  # GET changes nothing
    marketer_client.post(
        url, {"select": ids, "scope": "selection", "campaign_status": f"{campaign.pk}::Sent"}
    )
    assert set(CampaignMembership.objects.values_list("prospect_id", flat=True)) == set(ids)


def test_the_list_adds_a_whole_filter_in_a_task_when_large(
    marketer_client, campaign, monkeypatch, run_jobs, django_capture_on_commit_callbacks
):
    ProspectFactory.create_batch(4, company="Initech")
    ProspectFactory(company="Other")
    monkeypatch.setattr(jobs, "INLINE_LIMIT", 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("crm:bulk_add"),
            {"querystring": "q=Initech", "campaign_status": f"{campaign.pk}::Sent"},
        )
    assert "Adding prospects" in response.content.decode()
    run_jobs("imports")
    task = Task.objects.get(kind="campaign_add")
    assert task.state == Task.State.DONE and task.total == 4
    assert CampaignMembership.objects.filter(campaign=campaign).count() == 4


def test_a_marketer_connects_a_leadbridge_campaign(marketer_client, campaign):
    from prospects.factories import CampaignFactory

    leadbridge = CampaignFactory(name="Webinar LB")
    marketer_client.post(
        reverse("crm:campaign_connect", args=[campaign.pk]),
        {"leadbridge_campaign": leadbridge.pk},
    )
    campaign.refresh_from_db()
    assert campaign.leadbridge_campaign == leadbridge
    other = SalesforceCampaignFactory()
    response = marketer_client.post(
        reverse("crm:campaign_connect", args=[other.pk]),
        {"leadbridge_campaign": leadbridge.pk},
        follow=True,
    )
    assert "connected to another one already" in response.content.decode()


def test_the_email_filter_matches_the_start_without_regard_to_case(marketer_client, campaign):
    MembershipFactory(campaign=campaign, prospect=ProspectFactory(email="Zed.Alpha@example.com"))
    MembershipFactory(campaign=campaign, prospect=ProspectFactory(email="ann.zed@example.com"))
    MembershipFactory(campaign=campaign, prospect=ProspectFactory(email="z_d@example.com"))
    refresh_counts([campaign.pk])
    url = reverse("crm:campaign", args=[campaign.pk])
    page = marketer_client.get(url, {"email": "ZED"}).content.decode()
    assert "Zed.Alpha@example.com" in page and "ann.zed@" not in page
    assert ">1</span>" in page  # the last page makes the count exact
    # An underscore is a character, not LIKE's wildcard.
    page = marketer_client.get(url, {"email": "z_"}).content.decode()
    assert "z_d@example.com" in page and "Zed.Alpha" not in page


def test_a_filtered_count_is_exact_under_the_cap_and_an_estimate_above(
    marketer_client, campaign, monkeypatch
):
    MembershipFactory.create_batch(6, campaign=campaign, state=MembershipState.ERROR)
    MembershipFactory.create_batch(2, campaign=campaign)
    refresh_counts([campaign.pk])
    url = reverse("crm:campaign", args=[campaign.pk])
    page = marketer_client.get(url, {"state": "error"}).content.decode()
    assert ">6</span>" in page and "about" not in page
    monkeypatch.setattr(campaign_views, "COUNT_CAP", 3)
    monkeypatch.setattr(campaign_views, "PER_PAGE", 2)
    page = marketer_client.get(url, {"state": "error"}).content.decode()
    assert "about " in page  # more than the cap and more pages: the planner's estimate
    page = marketer_client.get(url, {"state": "error", "page": "3"}).content.decode()
    assert ">6</span>" in page and "about" not in page  # the last page: exact again


def test_pages_stop_at_the_bound_with_a_way_on(marketer_client, campaign, monkeypatch):
    MembershipFactory.create_batch(7, campaign=campaign)
    refresh_counts([campaign.pk])
    monkeypatch.setattr(campaign_views, "PER_PAGE", 2)
    monkeypatch.setattr(campaign_views, "MAX_PAGES", 2)
    url = reverse("crm:campaign", args=[campaign.pk])
    for query in ({"page": "9"}, {"page": "9", "state": "pending"}):
        response = marketer_client.get(url, query)
        assert response.status_code == 200
        assert response.context["table"].page.number == 2
        assert "Pages stop at 2" in response.content.decode()


@pytest.mark.parametrize(
    "sort", ["prospect", "-prospect", "status", "-status", "state", "has_responded", "-updated_at"]
)
def test_every_sort_pages_through_every_member_once(marketer_client, campaign, monkeypatch, sort):
    for i in range(7):
        MembershipFactory(
            campaign=campaign,
            status=["Sent", "Responded"][i % 2],
            state=[MembershipState.SYNCED, MembershipState.ERROR][i % 2],
            prospect=ProspectFactory(email=f"same{i % 2}@example.com"),
        )
    refresh_counts([campaign.pk])
    monkeypatch.setattr(campaign_views, "PER_PAGE", 3)
    url = reverse("crm:campaign", args=[campaign.pk])
    seen = []
    for page in (1, 2, 3):
        table = marketer_client.get(url, {"sort": sort, "page": page}).context["table"]
        seen += [row.record.pk for row in table.page.object_list]
    assert sorted(seen) == sorted(CampaignMembership.objects.values_list("pk", flat=True))


def test_a_deep_page_reads_its_ids_first_and_still_shows_the_right_rows(campaign, monkeypatch):
    members = MembershipFactory.create_batch(5, campaign=campaign)
    monkeypatch.setattr(campaign_views.DeferredJoinQuerySet, "DEFER_FROM", 2)
    rows = (
        campaign_views.DeferredJoinQuerySet(CampaignMembership)
        .filter(campaign=campaign)
        .select_related("prospect")
        .order_by("-id")
    )
    page = list(rows[2:4])
    assert [m.pk for m in page] == [members[2].pk, members[1].pk]
    assert page[0].prospect.email == members[2].prospect.email


def test_an_unknown_status_beside_a_valid_filter_counts_what_is_shown(marketer_client, campaign):
    MembershipFactory.create_batch(2, campaign=campaign, state=MembershipState.ERROR)
    MembershipFactory.create_batch(3, campaign=campaign)
    refresh_counts([campaign.pk])
    url = reverse("crm:campaign", args=[campaign.pk])
    response = marketer_client.get(url, {"state": "error", "status": "Bogus"})
    assert len(response.context["table"].page.object_list) == 2
    assert response.context["member_count"].n == 2

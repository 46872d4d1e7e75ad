"""The CRM pages: Salesforce users, the profile mapping, accounts, and what the prospect pages
show of them."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from crm.models import Account, AccountSettings, PortalRole, SalesforceProfile, SalesforceUser
from prospects.factories import ProspectFactory, UserFactory
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirror(db):
    """Three profiles and their users, as a user sync leaves them (no portal users yet)."""
    ensure_roles()
    sales = SalesforceProfile.objects.create(sf_id="00e000000000001AAA", name="Standard User")
    admins = SalesforceProfile.objects.create(
        sf_id="00e000000000002AAA", name="System Administrator"
    )
    SalesforceProfile.objects.create(
        sf_id="00e000000000003AAA", name="Partner Community User", user_type="PowerPartner"
    )
    for n, (profile, active) in enumerate([(sales, True), (sales, False), (admins, True)]):
        SalesforceUser.objects.create(
            sf_id=f"00500000000000{n}AAA",
            username=f"rep{n}@acme.example",
            email=f"rep{n}@acme.example",
            first_name=f"Rep{n}",
            last_name="Acme",
            name=f"Rep{n} Acme",
            is_active=active,
            profile=profile,
        )
    return sales, admins


def test_users_page_lists_the_mirror_with_a_pinned_number_of_queries(
    admin_client_, mirror, django_assert_max_num_queries
):
    for n in range(40):
        SalesforceUser.objects.create(sf_id=f"005000000001{n:03d}AAA", name=f"Extra {n}")
    with django_assert_max_num_queries(12):
        response = admin_client_.get(reverse("crm:users"))
    assert response.status_code == 200 and response.context["table"].paginator.count == 43
    response = admin_client_.get(reverse("crm:users"), {"is_active": "false"})
    assert [r.record.username for r in response.context["table"].page.object_list] == [
        "rep1@acme.example"
    ]


def test_saving_the_mapping_creates_invites_and_reports(admin_client_, mirror):
    sales, admins = mirror
    profiles = list(SalesforceProfile.objects.order_by("name"))
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3"}
    roles = {sales.pk: "marketer", admins.pk: "sync_admin"}
    for i, profile in enumerate(profiles):
        data[f"form-{i}-id"] = str(profile.pk)
        data[f"form-{i}-portal_role"] = roles.get(profile.pk, "none")
    response = admin_client_.post(reverse("crm:profiles"), data, follow=True)
    assert "2 portal users created (invited)" in response.content.decode()
    made = get_user_model().objects.filter(salesforce_user__isnull=False)
    assert sorted(made.values_list("username", flat=True)) == [
        "rep0@acme.example",
        "rep2@acme.example",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["rep0@acme.example", "rep2@acme.example"]
    assert "/crm/welcome/" in mail.outbox[0].body


def test_a_bad_role_is_refused_on_the_page_and_nothing_changes(admin_client_, mirror):
    sales, _ = mirror
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(sales.pk),
        "form-0-portal_role": "superuser",
    }
    response = admin_client_.post(reverse("crm:profiles"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    sales.refresh_from_db()
    assert sales.portal_role == PortalRole.NONE


def test_sync_now_runs_the_user_sync_on_a_worker(
    admin_client_, connector, run_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("crm:users_sync"), follow=True)
    assert "User sync started" in response.content.decode()
    run_jobs("sync")
    assert SalesforceUser.objects.filter(username="alice@acme.example").exists()


def test_sync_now_says_so_when_redis_is_down(admin_client_, redis_down):
    response = admin_client_.post(reverse("crm:users_sync"), follow=True)
    assert "was not started" in response.content.decode()


@pytest.fixture
def accounts(db):
    acme = Account.objects.create(
        sf_id="001000000000001AAA",
        name="Acme Robotics",
        industry="Technology",
        employees=250,
        billing_city="Austin",
        billing_country="United States",
        extra={"Type": "Customer - Direct"},
    )
    globex = Account.objects.create(
        sf_id="001000000000002AAA", name="Globex", industry="Energy", employees=12
    )
    return acme, globex


def test_accounts_list_and_detail_for_marketers(
    marketer_client, accounts, django_assert_max_num_queries
):
    acme, _ = accounts
    ProspectFactory(crm_contact_id="003000000000001AAA", crm_account_id=acme.sf_id)
    for n in range(30):
        Account.objects.create(sf_id=f"0010000000001{n:02d}AAA", name=f"Filler {n}")
    with django_assert_max_num_queries(10):
        response = marketer_client.get(reverse("crm:accounts"), {"industry": "Technology"})
    assert [r.record for r in response.context["table"].page.object_list] == [acme]
    page = marketer_client.get(reverse("crm:account", args=[acme.pk])).content.decode()
    assert "Acme Robotics" in page and "Customer - Direct" in page and "Austin" in page
    assert (
        "Account fields (Sync admins)"
        not in marketer_client.get(reverse("crm:accounts")).content.decode()
    )


def test_the_prospect_list_filters_on_account_fields(marketer_client, accounts):
    acme, globex = accounts
    at_acme = ProspectFactory(crm_contact_id="003000000000001AAA", crm_account_id=acme.sf_id)
    ProspectFactory(crm_contact_id="003000000000002AAA", crm_account_id=globex.sf_id)
    ProspectFactory()
    for query in (
        {"account_industry": "technology"},
        {"account_name": "robot"},
        {"account_country": "united states"},
        {"account_employees_min": "100"},
    ):
        response = marketer_client.get(reverse("prospects:list"), query)
        assert [r.record for r in response.context["table"].page.object_list] == [at_acme], query
    page = marketer_client.get(reverse("prospects:list")).content.decode()
    assert 'name="account_industry"' in page


def test_the_prospect_page_shows_its_account_and_an_inactive_owner(marketer_client, accounts):
    acme, _ = accounts
    owner = UserFactory(username="ivan")
    SalesforceUser.objects.create(
        sf_id="005000000000009AAA", name="Ivan Idle", is_active=False, portal_user=owner
    )
    prospect = ProspectFactory(
        crm_contact_id="003000000000001AAA", crm_account_id=acme.sf_id, assigned_user=owner
    )
    page = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert "Acme Robotics" in page and reverse("crm:account", args=[acme.pk]) in page
    assert "is inactive: Salesforce refuses them as the owner of new records" in page


def test_account_fields_setting_refuses_what_is_not_an_api_name(admin_client_):
    response = admin_client_.post(
        reverse("crm:account_settings"), {"extra_fields": "Type, Rating; DROP"}, follow=True
    )
    assert "Not an API name: Rating; DROP" in response.content.decode()
    assert AccountSettings.load().extra_fields == []
    admin_client_.post(reverse("crm:account_settings"), {"extra_fields": "Type, Region__c, Type"})
    assert AccountSettings.load().extra_fields == ["Type", "Region__c"]

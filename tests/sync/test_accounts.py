"""Accounts linked to prospects, mirrored read-only (sync/engine/accounts.py)."""

import factory
import pytest

from crm.models import Account, AccountSettings
from prospects.factories import ProspectFactory
from sync.engine.accounts import pull_accounts

pytestmark = pytest.mark.django_db


def demo_contacts(sf, limit: int) -> list[dict]:
    return sf.query(
        "SELECT Id, Email, AccountId, Account.Name FROM Contact WHERE AccountId != null "
        f"AND IsPersonAccount = false ORDER BY Email LIMIT {limit}"
    )["records"]


def test_a_contacts_account_is_mirrored_and_names_its_company(connector, sf):
    [contact] = demo_contacts(sf, 1)
    prospect = ProspectFactory(
        email=contact["Email"],
        company="Typed by hand",
        crm_contact_id=contact["Id"],
        crm_account_id=contact["AccountId"],
    )
    AccountSettings.objects.create(pk=1, extra_fields=["Type", "No_Such_Field__c"])
    report = pull_accounts(connector=connector)
    account = Account.objects.get(sf_id=contact["AccountId"])
    expected = sf.Account.get(contact["AccountId"])
    assert (account.name, account.industry, account.billing_country) == (
        expected["Name"],
        expected["Industry"],
        expected["BillingCountry"],
    )
    assert account.extra == {"Type": "Prospect"} and not account.is_person_account
    assert AccountSettings.load().missing_fields == ["No_Such_Field__c"]
    prospect.refresh_from_db()
    assert prospect.company == expected["Name"] and report.companies == 1
    entry = prospect.sync_history.get()
    assert entry.changes[0]["old"] == "Typed by hand" and entry.sobject == "Account"


def test_account_changes_come_back_at_the_next_pull(connector, sf, sandbox_org):
    [contact] = demo_contacts(sf, 1)
    prospect = ProspectFactory(
        email=contact["Email"], crm_contact_id=contact["Id"], crm_account_id=contact["AccountId"]
    )
    pull_accounts(connector=connector)
    admin = sandbox_org.admin()
    old = sf.Account.get(contact["AccountId"])["Name"]
    admin.Account.update(contact["AccountId"], {"Name": "Renamed Holdings", "Industry": "Media"})
    try:
        report = pull_accounts(connector=connector)
        account = Account.objects.get(sf_id=contact["AccountId"])
        assert (account.name, account.industry) == ("Renamed Holdings", "Media")
        assert report.refreshed >= 1 and report.fetched == 0
        prospect.refresh_from_db()
        assert prospect.company == "Renamed Holdings"
    finally:
        admin.Account.update(contact["AccountId"], {"Name": old})


def test_new_links_are_read_in_bulk_not_one_call_per_account(connector, sf, sf_client):
    contacts = demo_contacts(sf, 1200)
    accounts = sorted({c["AccountId"] for c in contacts})
    assert len(accounts) > 250
    ProspectFactory.create_batch(
        len(accounts),
        crm_contact_id="",
        crm_account_id=factory.Iterator(accounts),
    )
    sf_client.describe("Account")
    before = sf_client.api_calls
    report = pull_accounts(connector=connector, client=sf_client)
    assert report.fetched == len(accounts)
    # Two or more IN queries of 200 go in one Composite call.
    assert sf_client.api_calls - before == 1
    assert Account.objects.count() == len(accounts)


def test_an_account_salesforce_does_not_show_is_kept_as_not_visible(connector):
    ProspectFactory(crm_contact_id="003000000000001AAA", crm_account_id="001000000000001AAA")
    pull_accounts(connector=connector)
    account = Account.objects.get(sf_id="001000000000001AAA")
    assert account.deleted_at is not None and account.name == ""
    assert pull_accounts(connector=connector).fetched == 0  # not asked again every tick

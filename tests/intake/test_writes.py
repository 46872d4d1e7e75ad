"""The shared write core every intake path uses: matching, all-or-nothing rows, changed fields
only, history with its actor, one sync request per call."""

import datetime as dt

import pytest
from django.utils import timezone

from intake.writes import WriteOptions, to_18, write_prospects
from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import (
    Activity,
    ActivityType,
    CustomField,
    Prospect,
    SyncHistory,
    SyncQueueItem,
    SyncReason,
    SyncStatus,
)

pytestmark = pytest.mark.django_db


def rows(*values):
    return list(enumerate(values, start=2))


def test_a_new_email_creates_a_prospect_with_the_options_and_asks_for_its_sync():
    owner = UserFactory(username="owner")
    campaign = CampaignFactory(name="Spring")
    [result] = write_prospects(
        rows({"email": "ada@example.com", "first_name": "Ada", "employees": "12"}),
        options=WriteOptions(assign_user=owner, campaign=campaign, reason=SyncReason.API),
        actor=owner,
    )
    assert result.outcome == "created" and not result.errors
    prospect = Prospect.objects.get(pk=result.prospect_id)
    assert (prospect.first_name, prospect.employees) == ("Ada", 12)
    assert (prospect.assigned_user, prospect.campaign) == (owner, campaign)
    assert "first_name" in prospect.field_changed_at
    item = SyncQueueItem.objects.get(prospect=prospect)
    assert item.reason == SyncReason.API
    assert prospect.sync_status == SyncStatus.PENDING
    history = SyncHistory.objects.get(prospect=prospect)
    assert history.operation == "create" and history.actor == owner


def test_a_known_email_updates_only_the_fields_that_differ_and_names_the_actor():
    marketer = UserFactory(username="importer")
    prospect = ProspectFactory(email="Bob@Example.com", first_name="Bob", city="Berlin")
    before = prospect.updated_at
    [result] = write_prospects(
        rows({"email": "bob@example.COM", "first_name": "Bob", "city": "Hamburg"}),
        actor=marketer,
    )
    assert (result.outcome, result.prospect_id, result.changed) == (
        "updated",
        prospect.pk,
        ["city"],
    )
    prospect.refresh_from_db()
    assert prospect.city == "Hamburg"
    assert prospect.email == "Bob@Example.com"  # the same address in other letters: kept
    assert prospect.updated_at > before
    [history] = SyncHistory.objects.filter(prospect=prospect)
    assert history.changes == [{"field": "city", "old": "Berlin", "new": "Hamburg"}]
    assert history.actor == marketer


def test_an_unchanged_row_writes_nothing_and_queues_nothing():
    prospect = ProspectFactory(email="same@example.com", city="Paris")
    [result] = write_prospects(rows({"email": "same@example.com", "city": "Paris"}))
    assert result.outcome == "unchanged"
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()
    assert not SyncHistory.objects.filter(prospect=prospect).exists()


def test_ampsea_updates_the_most_recently_active_prospect_sharing_the_email():
    now = timezone.now()
    old = ProspectFactory(email="twin@example.com", last_activity_at=now - dt.timedelta(days=9))
    recent = ProspectFactory(email="twin@example.com", last_activity_at=now - dt.timedelta(days=1))
    never = ProspectFactory(email="TWIN@example.com", last_activity_at=None)
    [result] = write_prospects(rows({"email": "twin@example.com", "job_title": "CTO"}))
    assert result.prospect_id == recent.pk
    assert Prospect.objects.get(pk=recent.pk).job_title == "CTO"
    assert Prospect.objects.get(pk=old.pk).job_title != "CTO"
    assert Prospect.objects.get(pk=never.pk).job_title != "CTO"


def test_archived_prospects_are_not_matched():
    ProspectFactory(email="gone@example.com", archived_at=timezone.now())
    [result] = write_prospects(rows({"email": "gone@example.com"}))
    assert result.outcome == "created"


def test_crm_id_wins_over_email_and_a_15_character_id_matches_its_18_character_form():
    lead_id = to_18("00Q000000000ABC")
    by_crm = ProspectFactory(email="crm@example.com", crm_lead_id=lead_id)
    ProspectFactory(email="other@example.com")
    [result] = write_prospects(
        rows({"crm_id": "00Q000000000ABC", "email": "other@example.com", "city": "Oslo"})
    )
    assert result.prospect_id == by_crm.pk
    by_crm.refresh_from_db()
    assert (by_crm.email, by_crm.city) == ("other@example.com", "Oslo")


def test_the_visitor_cookie_prospect_wins_over_the_email():
    visitor = ProspectFactory(email="visitor@example.com")
    ProspectFactory(email="typed@example.com")
    [result] = write_prospects(rows({"prospect_id": str(visitor.pk), "email": "typed@example.com"}))
    assert result.prospect_id == visitor.pk


def test_a_row_with_any_bad_value_changes_nothing_and_names_each_field():
    prospect = ProspectFactory(email="half@example.com", city="Rome", employees=5)
    [result] = write_prospects(
        rows({"email": "half@example.com", "city": "Milan", "employees": "many", "score": "x"})
    )
    assert result.outcome == "failed"
    assert {p.field for p in result.errors} == {"employees", "score"}
    prospect.refresh_from_db()
    assert (prospect.city, prospect.employees) == ("Rome", 5)


def test_bad_rows_do_not_stop_the_good_ones():
    results = write_prospects(
        rows(
            {"email": "good1@example.com"},
            {"email": "not an email"},
            {"first_name": "No email"},
            {"email": "good2@example.com", "nonsense": "1"},
            {"email": "good3@example.com", "assigned_user": "1"},
            {"email": "good4@example.com", "employees": True},
        )
    )
    assert [r.outcome for r in results] == [
        "created",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
    ]
    assert [r.index for r in results] == [2, 3, 4, 5, 6, 7]
    assert results[2].errors[0].field == "email"
    assert "nonsense" in results[3].errors[0].message


def test_only_fill_blanks_leaves_values_that_are_there():
    prospect = ProspectFactory(email="fill@example.com", city="Lyon", phone="")
    write_prospects(
        rows({"email": "fill@example.com", "city": "Nice", "phone": "+33 1"}),
        options=WriteOptions(overwrite=False),
    )
    prospect.refresh_from_db()
    assert (prospect.city, prospect.phone) == ("Lyon", "+33 1")


def test_two_rows_with_one_new_email_make_one_prospect():
    results = write_prospects(
        rows(
            {"email": "dup@example.com", "first_name": "First"},
            {"email": "DUP@example.com", "last_name": "Second"},
        )
    )
    assert [r.outcome for r in results] == ["created", "created"]
    assert results[0].prospect_id == results[1].prospect_id
    prospect = Prospect.objects.get(email="dup@example.com")
    assert (prospect.first_name, prospect.last_name) == ("First", "Second")


def test_an_opt_out_is_kept_unless_the_person_undoes_it():
    prospect = ProspectFactory(email="out@example.com", opted_out=True)
    write_prospects(rows({"email": "out@example.com", "opted_out": "false"}))
    prospect.refresh_from_db()
    assert prospect.opted_out
    write_prospects(
        rows({"email": "out@example.com", "opted_out": False}),
        options=WriteOptions(allow_opt_in=True, reason=SyncReason.RESUBSCRIBE),
    )
    prospect.refresh_from_db()
    assert not prospect.opted_out


def test_predefined_values_are_checked_when_asked():
    CustomField.objects.create(
        api_name="tier", label="Tier", type="dropdown", choices=["Gold", "Silver"]
    )
    [loose] = write_prospects(rows({"email": "t1@example.com", "custom:tier": "Bronze"}))
    assert loose.outcome == "created"
    [strict] = write_prospects(
        rows({"email": "t2@example.com", "custom:tier": "Bronze"}),
        options=WriteOptions(validate_values=True),
    )
    assert strict.outcome == "failed" and strict.errors[0].field == "custom:tier"
    [typed] = write_prospects(
        rows({"email": "t3@example.com", "custom:tier": "Gold"}),
        options=WriteOptions(validate_values=True),
    )
    assert Prospect.objects.get(pk=typed.prospect_id).custom_fields == {"tier": "Gold"}


def test_no_create_reports_the_row_instead():
    [result] = write_prospects(
        rows({"email": "nobody@example.com"}), options=WriteOptions(create=False)
    )
    assert result.outcome == "failed" and "creating is off" in result.errors[0].message
    assert not Prospect.objects.exists()


def test_activities_are_recorded_for_every_matched_row_and_mark_the_last_activity():
    known = ProspectFactory(email="known@example.com", city="Rome", last_activity_at=None)
    results = write_prospects(
        rows({"email": "known@example.com", "city": "Rome"}, {"email": "fresh@example.com"}),
        options=WriteOptions(
            activity=ActivityType.FORM_HANDLER,
            activity_title="Contact us",
            reason=SyncReason.FORM_HANDLER,
        ),
        actor_label="Form handler Contact us",
    )
    assert [r.outcome for r in results] == ["unchanged", "created"]
    assert Activity.objects.filter(type=ActivityType.FORM_HANDLER).count() == 2
    known.refresh_from_db()
    assert known.last_activity_at is not None
    created = SyncHistory.objects.get(prospect_id=results[1].prospect_id)
    assert created.actor is None and created.actor_label == "Form handler Contact us"


def test_do_not_sync_prospects_are_written_but_not_queued():
    prospect = ProspectFactory(email="quiet@example.com", do_not_sync=True)
    [result] = write_prospects(rows({"email": "quiet@example.com", "city": "Bern"}))
    assert result.outcome == "updated"
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_a_change_made_elsewhere_to_another_field_is_not_reverted():
    prospect = ProspectFactory(email="race@example.com", city="Old", phone="1")
    Prospect.objects.filter(pk=prospect.pk).update(
        phone="2"
    )  # e.g. a pull, after the file was made
    write_prospects(rows({"email": "race@example.com", "city": "New"}))
    prospect.refresh_from_db()
    assert (prospect.city, prospect.phone) == ("New", "2")

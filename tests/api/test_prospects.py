"""The prospects endpoints: reading, writing through the write core, matching, batches."""

import datetime as dt

import pytest
from django.utils import timezone

from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import (
    Activity,
    ActivityType,
    CustomField,
    Prospect,
    SyncHistory,
    SyncQueueItem,
    SyncReason,
)
from sync.models import SyncError
from tests.sync.factories_errors import SyncErrorFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/prospects/"


# -- reading ---------------------------------------------------------------------------------


def test_a_page_shows_sync_status_and_open_errors_without_a_query_per_prospect(
    api, django_assert_max_num_queries
):
    prospects = ProspectFactory.create_batch(30)
    for prospect in prospects[:10]:
        SyncErrorFactory(prospect=prospect)
    SyncErrorFactory(prospect=prospects[0], resolved_at=timezone.now(), field="Phone")
    # key lookup, last use, role, page, open errors
    with django_assert_max_num_queries(6):
        body = api.get(URL).json()
    assert len(body["results"]) == 30
    first = next(row for row in body["results"] if row["id"] == prospects[0].pk)
    assert first["sync_status"] == "not_synced" and first["crm_status"] == "not_synced"
    assert [e["field"] for e in first["sync_errors"]] == ["Customer_Comment__c"]
    error = first["sync_errors"][0]
    assert set(error) == {"id", "category", "error_code", "field", "message"}


def test_pages_follow_the_cursor_newest_first(api):
    ids = [p.pk for p in ProspectFactory.create_batch(5)]
    first = api.get(URL, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == ids[::-1][:2]
    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == ids[::-1][2:4]


def test_the_list_takes_the_prospect_list_filters(api, marketer):
    mine = ProspectFactory(assigned_user=marketer, company="Zebra Works", score=50)
    ProspectFactory(company="Other", score=10)
    ProspectFactory(company="Zebra Other", score=500, crm_lead_id="00Q000000000001AAA")

    def ids(**params):
        return [row["id"] for row in api.get(URL, params).json()["results"]]

    assert ids(assigned_user=marketer.pk) == [mine.pk]
    assert ids(q="zebra works") == [mine.pk]
    assert ids(score_min=20, score_max=100) == [mine.pk]
    assert len(ids(crm_status="lead")) == 1
    assert api.get(URL, {"crm_status": "nonsense"}).status_code == 400
    assert ids(assigned_user=10**6) == []
    assert api.get(URL, {"assigned_user": 10**30}).status_code == 400
    for huge in ("-9223372036854775809", "1e400", "99999999999999999999"):
        assert api.get(URL, {"score_min": huge}).status_code == 400


def test_archived_prospects_are_not_listed_but_can_be_read(api):
    archived = ProspectFactory(archived_at=timezone.now())
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{archived.pk}/").json()["archived_at"] is not None


# -- creating and updating -------------------------------------------------------------------


def test_create_writes_through_the_write_core_as_the_keys_user(api, marketer):
    campaign = CampaignFactory()
    response = api.post(
        URL,
        {
            "email": "new@acme.example",
            "first_name": "Ada",
            "assigned_user": marketer.pk,
            "campaign": campaign.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    prospect = Prospect.objects.get(pk=response.json()["id"])
    assert (prospect.first_name, prospect.assigned_user, prospect.campaign) == (
        "Ada",
        marketer,
        campaign,
    )
    assert response.json()["sync_status"] == "pending"
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.API
    history = SyncHistory.objects.get(prospect=prospect)
    assert history.actor == marketer and history.reason == SyncReason.API
    assert Activity.objects.get(prospect=prospect).type == ActivityType.API


def test_create_answers_409_when_the_email_is_taken(api):
    existing = ProspectFactory(email="taken@acme.example", first_name="Old")
    response = api.post(URL, {"email": "TAKEN@acme.example", "first_name": "New"}, format="json")
    assert response.status_code == 409
    assert response.json()["id"] == existing.pk
    existing.refresh_from_db()
    assert existing.first_name == "Old" and Prospect.objects.count() == 1


def test_create_needs_an_email(api):
    response = api.post(URL, {"first_name": "Ada"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_patch_saves_only_the_fields_sent_and_keeps_a_pulls_newer_values(api, marketer):
    prospect = ProspectFactory(city="Boston", job_title="CTO")
    before = api.get(f"{URL}{prospect.pk}/").json()
    # A pull changes the city while the client holds the old record.
    Prospect.objects.filter(pk=prospect.pk).update(city="Denver")
    before["job_title"] = "CEO"
    response = api.patch(f"{URL}{prospect.pk}/", {"job_title": "CEO"}, format="json")
    assert response.status_code == 200, response.json()
    prospect.refresh_from_db()
    assert (prospect.job_title, prospect.city) == ("CEO", "Denver")
    history = SyncHistory.objects.get(prospect=prospect)
    assert [c["field"] for c in history.changes] == ["job_title"] and history.actor == marketer
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.API


def test_patch_changing_nothing_queues_nothing(api):
    prospect = ProspectFactory(job_title="CTO")
    response = api.patch(f"{URL}{prospect.pk}/", {"job_title": "CTO"}, format="json")
    assert response.status_code == 200
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()
    assert not Activity.objects.filter(prospect=prospect).exists()


def test_patch_writes_custom_fields_by_api_name_checked_as_their_type(api):
    CustomField.objects.create(api_name="seats", label="Seats", type=CustomField.Type.NUMBER)
    CustomField.objects.create(
        api_name="region", label="Region", type=CustomField.Type.DROPDOWN, choices=["East", "West"]
    )
    prospect = ProspectFactory()
    url = f"{URL}{prospect.pk}/"
    ok = api.patch(url, {"custom_fields": {"seats": 12, "region": "West"}}, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["custom_fields"] == {"seats": "12", "region": "West"}
    bad = api.patch(
        url, {"custom_fields": {"seats": "many", "region": "North", "nope": 1}}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["custom_fields"]) == {"seats", "region", "nope"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"frist_name": "Ada"}, "frist_name"),
        ({"sync_status": "synced"}, "sync_status"),
        ({"assigned_user": 1}, "assigned_user"),
        ({"score": "lots"}, "score"),
        ({"score": 10**9}, "score"),
        ({"employees": -1}, "employees"),
        ({"email": "not an email"}, "email"),
        ({"grade": "Z"}, "grade"),
        ({"first_name": "x" * 41}, "first_name"),
        ({"first_name": "a\x00b"}, "first_name"),
        ({"opted_out": "maybe"}, "opted_out"),
        ({"annual_revenue": "NaN"}, "annual_revenue"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"custom_fields": ["a"]}, "custom_fields"),
    ],
)
def test_bad_values_are_400_naming_the_field_and_change_nothing(api, body, field):
    prospect = ProspectFactory(first_name="Same")
    response = api.patch(f"{URL}{prospect.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    prospect.refresh_from_db()
    assert prospect.first_name == "Same"
    assert not SyncHistory.objects.filter(prospect=prospect).exists()


@pytest.mark.parametrize(
    "body", [b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b'{"email": "a@b.example",}']
)
def test_malformed_bodies_are_400(api, body):
    response = api.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()


def test_an_oversized_body_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api.post(URL, {"email": "a@b.example", "notes": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert not Prospect.objects.exists()


def test_other_media_types_are_415(api):
    response = api.generic("POST", URL, "email=a@b.example", content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.parametrize("path", ["99999999999999999999999/", "0/", "123456/", "x.y/", "a/b/"])
def test_unknown_ids_and_paths_are_json_404s(api, path):
    for response in (api.get(URL + path), api.patch(URL + path, {"city": "x"}, format="json")):
        assert response.status_code == 404
        assert response.json()["detail"]


# -- upserts ---------------------------------------------------------------------------------


def test_upsert_updates_the_most_recently_active_prospect_with_the_email(api):
    now = timezone.now()
    older = ProspectFactory(
        email="shared@acme.example", last_activity_at=now - dt.timedelta(days=9)
    )
    newer = ProspectFactory(email="shared@acme.example", last_activity_at=now)
    response = api.post(
        f"{URL}upsert/", {"email": "Shared@acme.example", "city": "Oslo"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == newer.pk
    assert Prospect.objects.get(pk=newer.pk).city == "Oslo"
    assert Prospect.objects.get(pk=older.pk).city != "Oslo"


def test_upsert_matches_the_crm_id_before_the_email(api):
    linked = ProspectFactory(email="one@acme.example", crm_contact_id="003000000000001AAA")
    ProspectFactory(email="two@acme.example")
    response = api.post(
        f"{URL}upsert/",
        {"crm_id": "003000000000001AAA", "email": "two@acme.example", "city": "Rome"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == linked.pk


def test_upsert_creates_when_nothing_matches(api):
    response = api.post(f"{URL}upsert/", {"email": "fresh@acme.example"}, format="json")
    assert response.status_code == 201
    assert Prospect.objects.filter(email="fresh@acme.example").count() == 1
    again = api.post(f"{URL}upsert/", {"email": "fresh@acme.example"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_upsert_needs_an_email_or_a_crm_id(api):
    response = api.post(f"{URL}upsert/", {"city": "Rome"}, format="json")
    assert response.status_code == 400 and "email" in response.json()


def test_a_batch_answers_one_result_per_row_and_applies_the_good_ones(api, marketer):
    existing = ProspectFactory(email="known@acme.example", city="Old")
    rows = [
        {"email": "known@acme.example", "city": "New"},
        {"email": "brand-new@acme.example", "first_name": "Bo"},
        {"email": "bad"},
        {"email": "other@acme.example", "unknown": 1},
        {"email": "other@acme.example", "score": "high"},
        {"email": "known@acme.example", "city": "New"},
    ]
    response = api.post(
        f"{URL}batch/", {"prospects": rows, "assigned_user": marketer.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["outcome"] for r in results] == [
        "updated",
        "created",
        "failed",
        "failed",
        "failed",
        "unchanged",
    ]
    assert results[0]["id"] == existing.pk
    assert results[2]["errors"][0]["field"] == "email"
    assert results[3]["errors"] == [{"field": "unknown", "message": "Unknown field."}]
    assert response.json()["counts"] == {
        "updated": 1,
        "created": 1,
        "failed": 3,
        "unchanged": 1,
    }
    created = Prospect.objects.get(pk=results[1]["id"])
    assert created.assigned_user == marketer
    assert Prospect.objects.get(pk=existing.pk).city == "New"


def test_a_batch_whose_rows_are_not_objects_is_refused_whole(api):
    rows = [{"email": "fine@acme.example"}, "not a row", None]
    response = api.post(f"{URL}batch/", {"prospects": rows}, format="json")
    assert response.status_code == 400
    assert set(response.json()["prospects"]) == {"1", "2"}
    assert not Prospect.objects.exists()


def test_a_batch_takes_up_to_1000_rows(api):
    rows = [{"email": f"p{i}@acme.example"} for i in range(1001)]
    response = api.post(f"{URL}batch/", {"prospects": rows}, format="json")
    assert response.status_code == 400 and "prospects" in response.json()
    assert not Prospect.objects.exists()


def test_a_sync_request_queues_the_prospect_and_names_the_user(api, marketer):
    prospect = ProspectFactory()
    response = api.post(f"{URL}{prospect.pk}/sync/")
    assert response.status_code == 202
    assert response.json() == {"id": prospect.pk, "sync_status": "pending"}
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.MANUAL
    assert SyncHistory.objects.get(prospect=prospect).actor == marketer


# -- Sync Errors and campaigns ---------------------------------------------------------------


def test_sync_errors_are_filtered_as_on_their_page(api):
    open_error = SyncErrorFactory(category="access", error_code="INSUFFICIENT_ACCESS")
    SyncErrorFactory(resolved_at=timezone.now())
    url = "/api/v1/sync-errors/"
    assert [r["id"] for r in api.get(url).json()["results"]] == [open_error.pk]
    assert len(api.get(url, {"status": "all"}).json()["results"]) == 2
    assert api.get(url, {"category": "data_formatting"}).json()["results"] == []
    assert (
        api.get(url, {"q": str(open_error.prospect_id)}).json()["results"][0]["id"] == open_error.pk
    )
    assert api.get(url, {"q": "9" * 30}).json()["results"] == []
    body = api.get(f"{url}{open_error.pk}/").json()
    assert (
        body["error_code"] == "INSUFFICIENT_ACCESS" and body["prospect"] == open_error.prospect_id
    )
    assert SyncError.objects.count() == 2


def test_campaigns_are_listed_by_name(api):
    CampaignFactory(name="Zeta")
    CampaignFactory(name="Alpha")
    body = api.get("/api/v1/campaigns/").json()
    assert [c["name"] for c in body["results"]] == ["Alpha", "Zeta"]
    assert api.post("/api/v1/campaigns/", {"name": "x"}, format="json").status_code == 405


def test_the_fast_representation_equals_drfs_own(api):
    """``ProspectSerializer.to_representation`` reads columns directly for speed; it must say
    exactly what DRF's field-by-field representation says."""
    from rest_framework import serializers as drf

    from api.serializers import ProspectSerializer
    from api.views import open_errors

    prospect = ProspectFactory(
        annual_revenue="1234.50",
        employees=None,
        grade="B+",
        custom_fields={"seats": "12"},
        campaign=CampaignFactory(),
    )
    SyncErrorFactory(prospect=prospect)
    prospect = Prospect.objects.prefetch_related(open_errors()).get(pk=prospect.pk)
    serializer = ProspectSerializer()
    assert serializer.to_representation(prospect) == drf.Serializer.to_representation(
        serializer, prospect
    )


def test_a_body_over_djangos_own_limit_is_413_too(api, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000  # Django refuses it before the parser
    response = api.post(URL, {"email": "a@b.example", "notes": "x" * 6_000}, format="json")
    assert response.status_code == 413
    assert "5,000 bytes" in response.json()["detail"]
